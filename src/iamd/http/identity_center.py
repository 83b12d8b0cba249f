"""IAM Identity Center's unsigned fronts: the OAuth service (`sso-oidc`: /client/register,
/device_authorization, /token), the portal API (`sso`: /federation/credentials,
/assignment/accounts, /assignment/roles, /logout) and the device verification page
(/device), where a user signs in and approves the code their CLI shows; /authorize
(the authorization-code grant's pages) is http/sso_authorize.py, the access portal page
(/start) http/sso_portal_page.py, and the MFA step they share http/sso_mfa_step.py.

REST-JSON as botocore speaks it: the exception's name in `x-amzn-ErrorType`, OAuth's
`error`/`error_description` (sso-oidc) or `message` (portal) in the body; portal calls
carry the access token in `x-amz-sso_bearer_token`. Every input is checked here; no
answer, page or log line holds a password, a code or a token other than the one issued
to the caller. The page's form is protected by a CSRF token bound to a cookie, and
framing is refused. Every OAuth and portal call is an event of the audit trail, successes
and refusals, with its secrets HIDDEN_DUE_TO_SECURITY_REASONS (http/sso_trail.py). Runs
on a worker thread (password checks are argon2).
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from iamd.errors import (
    AwsError,
    InvalidRequestException,
    OAuthError,
    PortalInvalidRequestException,
    UnauthorizedException,
    ValidationError,
)
from iamd.http.failure_log import FailureLog
from iamd.http.pipeline import HttpRequest, HttpResponse
from iamd.http.sso_authorize import AUTHORIZE_PAGE, AuthorizePage
from iamd.http.sso_external import PATHS as EXTERNAL_PATHS
from iamd.http.sso_external import ExternalSignIn
from iamd.http.sso_mfa_step import MfaStep, message_of, refusal
from iamd.http.sso_pages import (
    base_url,
    csrf_ok,
    form_fields,
    form_page,
    page_response,
    secure_cookies,
)
from iamd.http.sso_password_step import PasswordRefused, check_password, sign_in_name
from iamd.http.sso_portal_page import PORTAL_PAGE, PortalPage
from iamd.http.sso_trail import SsoTrail
from iamd.protocol.form import header
from iamd.services.container import Services
from iamd.services.identity_center_trail import (
    HIDDEN,
    PORTAL_EVENT_SOURCE,
    oauth_request_parameters,
)
from iamd.services.identity_store import page_of_list
from iamd.services.sso_mfa import Refused
from iamd.services.sso_oidc import OidcSubject, TokenOwner
from iamd.services.trail import TrailRecorder

log = logging.getLogger(__name__)
_failures = FailureLog(log)

OIDC_PATHS = frozenset({"/client/register", "/device_authorization", "/token"})
PORTAL_PATHS = frozenset(
    {"/federation/credentials", "/assignment/accounts", "/assignment/roles", "/logout"}
)
DEVICE_PAGE = "/device"
PATHS = OIDC_PATHS | PORTAL_PATHS | EXTERNAL_PATHS | {DEVICE_PAGE, AUTHORIZE_PAGE, PORTAL_PAGE}
_JSON = b"application/json"
MAX_FIELD = 4096


_OIDC_EVENTS = {
    "/client/register": "RegisterClient",
    "/device_authorization": "StartDeviceAuthorization",
    "/token": "CreateToken",
}
# The answers' members the trail shows only as HIDDEN_DUE_TO_SECURITY_REASONS: secrets,
# and the user code (with the verification URI that carries it), which a reader of the
# trail could otherwise approve as theirs while it is pending.
_HIDDEN_ANSWER_MEMBERS = frozenset(
    {
        "clientSecret",
        "deviceCode",
        "userCode",
        "verificationUriComplete",
        "accessToken",
        "refreshToken",
        "idToken",
    }
)

_PORTAL_EVENTS = {
    "/assignment/accounts": "ListAccounts",
    "/assignment/roles": "ListAccountRoles",
    "/federation/credentials": "GetRoleCredentials",
    "/logout": "Logout",
}


class IdentityCenterFront:
    def __init__(
        self, services: Services, trail: TrailRecorder | None = None, region: str = "us-east-1"
    ) -> None:
        self._services = services
        self._trail = SsoTrail(services, trail, region)
        self._mfa = MfaStep(services, self._trail)
        # An instance with an external identity provider signs in there, not here.
        self._external = ExternalSignIn(services, self._trail)
        self._authorize = AuthorizePage(services, self._trail, self._mfa, self._external.authorize)
        self._portal_page = PortalPage(services, self._trail, self._mfa, self._external.portal)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self._answer(request)
        return secure_cookies(response) if request.secure else response

    def _answer(self, request: HttpRequest) -> HttpResponse:
        path = request.raw_path.decode("latin-1").split("?", 1)[0]
        try:
            if path in OIDC_PATHS:
                return self._oidc(path, request)
            if path in PORTAL_PATHS:
                return self._portal(path, request)
            if path == AUTHORIZE_PAGE:
                return self._authorize(request, _query(request))
            if path == PORTAL_PAGE:
                fields = form_fields(request) if request.method == "POST" else {}
                return self._portal_page(request, _query(request), fields)
            if path in EXTERNAL_PATHS:
                return self._external(path, request, _query(request))
            return self._device_page(request)
        except AwsError as error:
            return _error(error)
        except Exception as exc:
            _failures.exception(exc, "identity center request failed (%s)", path)
            return HttpResponse(
                500,
                [(b"content-type", _JSON), (b"x-amzn-errortype", b"InternalServerException")],
                json.dumps({"error": "server_error", "message": "Internal failure"}).encode(),
            )

    # -- sso-oidc ----------------------------------------------------------------------

    def _oidc(self, path: str, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            raise InvalidRequestException("Use POST.")
        body = _json_body(request)
        name = _OIDC_EVENTS[path]
        seen = OidcSubject()
        device_code = body.get("deviceCode")
        try:
            answer = self._oidc_call(path, request, body, seen)
        except AwsError as error:
            if not seen.instance_arn and self._trail.enabled:
                self._learn(seen, body)
            self._trail.oauth(
                request,
                seen,
                name,
                oauth_request_parameters(name, body),
                None,
                (error.code, error.message),
                device_code=device_code if isinstance(device_code, str) else None,
            )
            raise
        self._trail.oauth(
            request, seen, name, oauth_request_parameters(name, body), _recorded_answer(answer)
        )
        return _json(answer)

    def _learn(self, seen: OidcSubject, body: dict[str, Any]) -> None:
        """Whom a call refused before the service saw it concerns (for the trail)."""

        def text(name: str) -> str | None:
            value = body.get(name)
            return value if isinstance(value, str) and 0 < len(value) <= MAX_FIELD else None

        self._services.sso_oidc.learn_subject(
            seen,
            text("startUrl") or text("issuerUrl"),
            text("grantType"),
            text("deviceCode"),
            text("refreshToken"),
            text("code"),
        )

    def _oidc_call(
        self, path: str, request: HttpRequest, body: dict[str, Any], seen: OidcSubject
    ) -> dict[str, Any]:
        """The call's answer; `seen` learns whom it concerns (for the trail: without
        one, the service is spared the look-ups)."""
        oidc = self._services.sso_oidc
        learn = seen if self._trail.enabled else None
        if path == "/client/register":
            registration = oidc.register_client(
                _required(body, "clientName"),
                _required(body, "clientType"),
                _strings(body, "scopes"),
                _strings(body, "redirectUris"),
                _strings(body, "grantTypes"),
                _optional(body, "issuerUrl"),
                learn,
            )
            return {
                "clientId": registration.client_id,
                "clientSecret": registration.client_secret,
                "clientIdIssuedAt": int(registration.issued.timestamp()),
                "clientSecretExpiresAt": int(registration.expires.timestamp()),
            }
        if path == "/device_authorization":
            authorization = oidc.start_device(
                _required(body, "clientId"),
                _required(body, "clientSecret"),
                _required(body, "startUrl"),
                learn,
            )
            page = f"{base_url(request)}{DEVICE_PAGE}"
            return {
                "deviceCode": authorization.device_code,
                "userCode": authorization.user_code,
                "verificationUri": page,
                "verificationUriComplete": f"{page}?user_code={authorization.user_code}",
                "expiresIn": authorization.expires_in,
                "interval": authorization.interval,
            }
        tokens = oidc.create_token(
            _required(body, "clientId"),
            _required(body, "clientSecret"),
            _required(body, "grantType"),
            device_code=_optional(body, "deviceCode"),
            refresh_token=_optional(body, "refreshToken"),
            code=_optional(body, "code"),
            redirect_uri=_optional(body, "redirectUri"),
            code_verifier=_optional(body, "codeVerifier"),
            seen=learn,
        )
        # The tokens' own owner (a refresh keeps its family; a new sign-in has its own).
        seen.instance_arn, seen.user_id, seen.family = (
            tokens.instance_arn,
            tokens.user_id,
            tokens.family,
        )
        return {
            "accessToken": tokens.access_token,
            "tokenType": "Bearer",
            "expiresIn": tokens.expires_in,
            "refreshToken": tokens.refresh_token,
        }

    # -- the portal --------------------------------------------------------------------

    def _portal(self, path: str, request: HttpRequest) -> HttpResponse:
        token = header(request.headers, b"x-amz-sso_bearer_token")
        if not token or len(token) > MAX_FIELD:
            raise UnauthorizedException()
        owner = self._services.sso_oidc.token_owner(token)
        if owner is None:
            raise UnauthorizedException()
        parameters: dict[str, Any] = {}
        try:
            response = self._portal_call(path, request, owner, parameters)
        except AwsError as error:
            self._record_portal(request, owner, path, parameters, (error.code, error.message))
            raise
        self._record_portal(request, owner, path, parameters, None)
        return response

    def _portal_call(
        self, path: str, request: HttpRequest, owner: TokenOwner, parameters: dict[str, Any]
    ) -> HttpResponse:
        """The call's answer; `parameters` gets each request parameter once it is checked
        (what the trail records)."""
        query = _query(request)
        portal = self._services.sso_portal
        if path == "/logout":
            self._services.sso_oidc.logout(owner)
            return HttpResponse(200, [(b"content-type", _JSON)], b"")
        if path == "/assignment/accounts":
            accounts = portal.accounts(owner)
            items = [
                {"accountId": a.account_id, "accountName": a.name, "emailAddress": a.email}
                for a in accounts
            ]
            return _json(_page("accountList", items, query))
        account_id = _account_id(query)
        parameters["accountId"] = account_id
        if path == "/assignment/roles":
            roles = [
                {"roleName": name, "accountId": account_id}
                for name in portal.roles(owner, account_id)
            ]
            return _json(_page("roleList", roles, query))
        role_name = query.get("role_name", "")
        if not role_name or len(role_name) > 64:
            raise PortalInvalidRequestException("role_name is required.")
        parameters["roleName"] = role_name
        issued = portal.role_credentials(owner, account_id, role_name)
        return _json(
            {
                "roleCredentials": {
                    "accessKeyId": issued.access_key_id,
                    "secretAccessKey": issued.secret_access_key,
                    "sessionToken": issued.session_token,
                    "expiration": int(issued.expiration.timestamp() * 1000),
                }
            }
        )

    # -- the audit trail ---------------------------------------------------------------

    def _record_portal(
        self,
        request: HttpRequest,
        owner: TokenOwner,
        path: str,
        parameters: dict[str, Any],
        error: tuple[str, str] | None,
    ) -> None:
        self._trail.call(
            request,
            owner.instance_arn,
            owner.user_id,
            owner.family,
            PORTAL_EVENT_SOURCE,
            _PORTAL_EVENTS[path],
            parameters or None,
            error,
        )

    # -- the device verification page --------------------------------------------------

    def _device_page(self, request: HttpRequest) -> HttpResponse:
        query = _query(request)
        if request.method == "GET":
            redirect = self._to_provider(query.get("user_code", "")[:16])
            return redirect or self._form(query.get("user_code", ""), None)
        if request.method != "POST":
            return HttpResponse(405, [(b"content-type", b"text/plain")], b"Method not allowed\n")
        fields = form_fields(request)
        if fields.get("step") == "mfa":
            return self._device_mfa(request, fields)
        if not csrf_ok(request, fields):
            return self._form(
                fields.get("user_code", ""), "The form expired; please try again.", 403
            )
        user_code = fields.get("user_code", "")[:16]
        found = self._services.sso_oidc.pending_device(user_code)
        if found is None:
            return self._form(user_code, "That code is not valid or has expired.", 400)
        grant, client_name = found
        with self._services.tx.read() as repos:
            instance = repos.identity_center.instance(grant.instance_arn)
        if instance is None:
            return self._form(user_code, "That code is not valid or has expired.", 400)
        redirect = self._external.device(instance, user_code)
        if redirect is not None:
            return redirect
        login_to = f"{base_url(request)}{DEVICE_PAGE}"
        approved = fields.get("decision") == "allow"
        # A denial signs no one in: its password check is recorded here (an approval's
        # by the MFA step or the sign-in that follows).
        outcome = check_password(
            self._services,
            self._trail,
            request,
            instance,
            fields,
            login_to,
            record_success=not approved,
        )
        if isinstance(outcome, PasswordRefused):
            return self._form(user_code, outcome.message, outcome.status, outcome.ask_new_password)
        if approved:
            # Only an approval signs the user in: that is what MFA guards.
            step = self._mfa.after_password(
                request,
                outcome,
                sign_in_name(fields),
                "device",
                {"user_code": user_code},
                login_to,
                DEVICE_PAGE,
            )
            if step is not None:
                return step
        return self._decided(user_code, outcome.user.user_id, approved, client_name)

    def _device_mfa(self, request: HttpRequest, fields: dict[str, str]) -> HttpResponse:
        """The MFA form's post: the code for the sign-in its ticket holds."""
        login_to = f"{base_url(request)}{DEVICE_PAGE}"
        result = self._mfa.verify(request, fields, "device", login_to)
        if isinstance(result, Refused):
            status, message = message_of(result)
            return refusal(
                result, DEVICE_PAGE, fields.get("ticket", ""), self._form("", message, status)
            )
        user_code = str(result.context.get("user_code", ""))
        found = self._services.sso_oidc.pending_device(user_code)
        if found is None or found[0].instance_arn != result.instance_arn:
            return self._form(user_code, "That code is not valid or has expired.", 400)
        return self._decided(user_code, result.user_id, True, found[1])

    def _decided(
        self, user_code: str, user_id: str, approved: bool, client_name: str
    ) -> HttpResponse:
        if not self._services.sso_oidc.decide_device(user_code, user_id, approved):
            return self._form(user_code, "That code is not valid or has expired.", 400)
        if approved:
            text = f"You may close this page: {html.escape(client_name)} is signed in."
            return page_response(200, "Request approved", f"<p>{text}</p>")
        return page_response(200, "Request denied", "<p>The request was denied.</p>")

    def _form(
        self, user_code: str, message: str | None, status: int = 200, new_password: bool = False
    ) -> HttpResponse:
        extra = (
            '<label>New password <input type="password" name="new_password" '
            'autocomplete="new-password" required></label>'
            if new_password
            else ""
        )
        notice = f'<p role="alert">{html.escape(message)}</p>' if message else ""
        body = f"""{notice}
<form method="post" action="{DEVICE_PAGE}">
<input type="hidden" name="csrf" value="{{csrf}}">
<label>Code <input name="user_code" value="{html.escape(user_code[:16])}"
 required autocomplete="off"></label>
<label>User name <input name="username" autocomplete="username" required></label>
<label>Password <input type="password" name="password"
 autocomplete="current-password" required></label>
{extra}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>"""
        return form_page(status, "Authorize request", body, DEVICE_PAGE)

    def _to_provider(self, user_code: str) -> HttpResponse | None:
        """The redirect to the instance's identity provider, if the code's has one."""
        found = self._services.sso_oidc.pending_device(user_code) if user_code else None
        if found is None:
            return None
        with self._services.tx.read() as repos:
            instance = repos.identity_center.instance(found[0].instance_arn)
        return self._external.device(instance, user_code) if instance is not None else None


def _error(error: AwsError) -> HttpResponse:
    if isinstance(error, OAuthError):
        body: dict[str, Any] = error.fields()
    else:
        body = {"message": error.message}
    return HttpResponse(
        error.status,
        [(b"content-type", _JSON), (b"x-amzn-errortype", error.code.encode("ascii"))],
        json.dumps(body).encode(),
    )


def _recorded_answer(answer: Mapping[str, Any]) -> dict[str, Any]:
    """An OAuth answer as its event's responseElements: every secret HIDDEN."""
    return {
        key: HIDDEN if key in _HIDDEN_ANSWER_MEMBERS else value
        for key, value in answer.items()
        if value is not None
    }


def _json(document: Mapping[str, Any]) -> HttpResponse:
    cleaned = {key: value for key, value in document.items() if value is not None}
    return HttpResponse(200, [(b"content-type", _JSON)], json.dumps(cleaned).encode())


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        document = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestException("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise InvalidRequestException("The request body must be a JSON object.")
    return document


def _required(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD:
        raise InvalidRequestException(f"{name} is required.")
    return value


def _optional(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise InvalidRequestException(f"{name} must be a string.")
    return value


def _strings(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name) or []
    if (
        not isinstance(value, list)
        or len(value) > 50
        or not all(isinstance(item, str) and len(item) <= MAX_FIELD for item in value)
    ):
        raise InvalidRequestException(f"{name} must be a list of strings.")
    return list(value)


def _query(request: HttpRequest) -> dict[str, str]:
    try:
        pairs = parse_qsl(request.raw_query.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise PortalInvalidRequestException("The query string is not UTF-8.") from None
    return {key: value[:MAX_FIELD] for key, value in pairs}


def _account_id(query: Mapping[str, str]) -> str:
    account_id = query.get("account_id", "")
    if len(account_id) != 12 or not account_id.isdigit():
        raise PortalInvalidRequestException("account_id must be a 12-digit account id.")
    return account_id


def _page(key: str, items: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    """One page of the portal's list, its `nextToken` bound to that list."""
    try:
        size = int(query.get("max_result") or 100)
    except ValueError:
        raise PortalInvalidRequestException("Invalid max_result.") from None
    if not 1 <= size <= 100:
        raise PortalInvalidRequestException("Invalid max_result.")
    try:
        page = page_of_list(items, key, query.get("next_token") or None, size)
    except ValidationError:
        raise PortalInvalidRequestException("Invalid next_token.") from None
    return {key: page.items, "nextToken": page.next_token}
