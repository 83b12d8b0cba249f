"""The authorization-code grant's browser side (`GET /authorize` at the host root, where
the AWS CLI v2 sends the browser): the request is checked before anything is shown, the
user signs in with their identity store user name and password, consents, and the
browser goes back to the client's loopback redirect URI with `code` and `state`.

Where the answer goes is decided before any page: an unknown client, or a redirect URI
the client did not register (loopback only), gets an error page and never a redirect,
so /authorize cannot send anyone elsewhere. Other errors go back to that checked
redirect URI as OAuth's `error` (RFC 6749 section 4.1.2.1). The sign-in form carries
the request in hidden fields and is checked again on each post; after sign-in the
request lives server-side behind a consent ticket bound to `state`. Every form has a
CSRF token; pages refuse framing. No page or log line holds a password or a code.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from iamd.http.pipeline import HttpRequest, HttpResponse
from iamd.http.sso_mfa_step import MfaStep, message_of, refusal
from iamd.http.sso_pages import base_url, csrf_ok, form_fields, form_page, page_response
from iamd.http.sso_password_step import PasswordRefused, check_password, sign_in_name
from iamd.http.sso_trail import SsoTrail
from iamd.services.container import Services
from iamd.services.sso_mfa import Refused
from iamd.services.sso_oidc import AuthorizationRefused, AuthorizationRequest, UntrustedRedirect

AUTHORIZE_PAGE = "/authorize"
# The request's parameters as the CLI sends them; the sign-in form carries them along.
_REQUEST_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "scopes",
)
_MAX_FIELD = 4096
# What a URI keeps unquoted: RFC 3986's reserved and unreserved characters, and "%".
_URI_SAFE = ":/?#[]@!$&'()*+,;=~%"


#: Where an instance with an external identity provider sends the browser instead of
#: showing the password form (http/sso_external.py), or None.
ExternalHook = Callable[[AuthorizationRequest], HttpResponse | None]


class AuthorizePage:
    def __init__(
        self,
        services: Services,
        trail: SsoTrail,
        mfa: MfaStep,
        external: ExternalHook | None = None,
    ) -> None:
        self._services = services
        self._trail = trail
        self._mfa = mfa
        self._external = external or (lambda _checked: None)

    def __call__(self, request: HttpRequest, query: Mapping[str, str]) -> HttpResponse:
        if request.method == "GET":
            return self._check_then(
                query,
                lambda checked: self._external(checked) or self._sign_in_form(checked, None),
            )
        if request.method != "POST":
            return HttpResponse(405, [(b"content-type", b"text/plain")], b"Method not allowed\n")
        fields = form_fields(request)
        if fields.get("step") == "consent":
            return self._consent(request, fields)
        if fields.get("step") == "mfa":
            return self._after_code(request, fields)
        return self._check_then(
            fields,
            lambda checked: self._external(checked) or self._sign_in(request, fields, checked),
        )

    def _check_then(
        self,
        params: Mapping[str, str],
        then: Callable[[AuthorizationRequest], HttpResponse],
    ) -> HttpResponse:
        values = {name: params.get(name, "")[:_MAX_FIELD] for name in _REQUEST_FIELDS}
        try:
            checked = self._services.sso_oidc.check_authorization(
                values["client_id"],
                values["redirect_uri"],
                values["response_type"],
                values["state"],
                values["code_challenge"],
                values["code_challenge_method"],
                # The CLI sends `scopes` (plural); RFC 6749's `scope` is taken as well.
                values["scopes"] or params.get("scope", "")[:_MAX_FIELD],
            )
        except UntrustedRedirect as refused:
            return _error_page(str(refused))
        except AuthorizationRefused as refused:
            return _redirect(
                refused.redirect_uri,
                {"error": refused.error, "error_description": refused.description},
                refused.state,
            )
        return then(checked)

    # -- sign-in -----------------------------------------------------------------------

    def _sign_in(
        self, request: HttpRequest, fields: Mapping[str, str], checked: AuthorizationRequest
    ) -> HttpResponse:
        if not csrf_ok(request, dict(fields)):
            return self._sign_in_form(checked, "The form expired; please try again.", 403)
        login_to = f"{base_url(request)}{AUTHORIZE_PAGE}"
        outcome = check_password(
            self._services, self._trail, request, checked.instance, fields, login_to
        )
        if isinstance(outcome, PasswordRefused):
            return self._sign_in_form(
                checked, outcome.message, outcome.status, outcome.ask_new_password
            )
        # The request as checked; after the code it is checked again from this copy.
        context = {name: fields.get(name, "")[:_MAX_FIELD] for name in _REQUEST_FIELDS}
        context["scopes"] = " ".join(checked.scopes)
        step = self._mfa.after_password(
            request, outcome, sign_in_name(fields), "authorize", context, login_to, AUTHORIZE_PAGE
        )
        if step is not None:
            return step
        ticket = self._services.sso_oidc.begin_consent(checked, outcome.user.user_id)
        return _consent_form(checked, ticket, outcome.user.user_name)

    def _after_code(self, request: HttpRequest, fields: Mapping[str, str]) -> HttpResponse:
        """The MFA form's post; a right code leads to the consent page."""
        result = self._mfa.verify(
            request, fields, "authorize", f"{base_url(request)}{AUTHORIZE_PAGE}"
        )
        if isinstance(result, Refused):
            status, message = message_of(result)
            return refusal(
                result,
                AUTHORIZE_PAGE,
                fields.get("ticket", ""),
                _error_page(f"{message} Start the sign-in again from your application.", status),
            )
        params = {name: str(result.context.get(name, "")) for name in _REQUEST_FIELDS}

        def consent(checked: AuthorizationRequest) -> HttpResponse:
            if checked.instance.instance_arn != result.instance_arn:
                return _error_page("This sign-in request is not valid or has expired.")
            ticket = self._services.sso_oidc.begin_consent(checked, result.user_id)
            with self._services.tx.read() as repos:
                user = repos.identity_center.user(
                    checked.instance.identity_store_id, result.user_id
                )
            return _consent_form(checked, ticket, user.user_name if user else "")

        return self._check_then(params, consent)

    def _sign_in_form(
        self,
        checked: AuthorizationRequest,
        message: str | None,
        status: int = 200,
        new_password: bool = False,
    ) -> HttpResponse:
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (
                ("response_type", "code"),
                ("client_id", checked.client_id),
                ("redirect_uri", checked.redirect_uri),
                ("state", checked.state),
                ("code_challenge", checked.code_challenge),
                ("code_challenge_method", "S256"),
                ("scopes", " ".join(checked.scopes)),
            )
        )
        extra = (
            '<label>New password <input type="password" name="new_password" '
            'autocomplete="new-password" required></label>'
            if new_password
            else ""
        )
        notice = f'<p role="alert">{html.escape(message)}</p>' if message else ""
        client = html.escape(checked.client_name)
        body = f"""{notice}
<p>Sign in to continue to <strong>{client}</strong>.</p>
<form method="post" action="{AUTHORIZE_PAGE}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="sign-in">
{hidden}
<label>User name <input name="username" autocomplete="username" required></label>
<label>Password <input type="password" name="password"
 autocomplete="current-password" required></label>
{extra}
<button type="submit">Sign in</button>
</form>"""
        return form_page(status, "Sign in", body, AUTHORIZE_PAGE, (_origin(checked.redirect_uri),))

    # -- consent -----------------------------------------------------------------------

    def _consent(self, request: HttpRequest, fields: Mapping[str, str]) -> HttpResponse:
        if not csrf_ok(request, dict(fields)):
            # Without a valid token nothing is decided: the ticket stays pending, and the
            # user's own next post (with the token) still works.
            return _error_page("The form expired; start the sign-in again.", 403)
        try:
            redirect_uri, code = self._services.sso_oidc.decide_consent(
                fields.get("ticket", "")[:_MAX_FIELD],
                fields.get("state", "")[:_MAX_FIELD],
                fields.get("decision") == "allow",
            )
        except UntrustedRedirect as refused:
            return _error_page(str(refused))
        state = fields.get("state", "")
        if code is None:
            return _redirect(
                redirect_uri,
                {"error": "access_denied", "error_description": "The user denied the request."},
                state,
            )
        return _redirect(redirect_uri, {"code": code}, state)


def _consent_form(checked: AuthorizationRequest, ticket: str, user_name: str) -> HttpResponse:
    client = html.escape(checked.client_name)
    scopes = "".join(f"<li>{html.escape(scope)}</li>" for scope in checked.scopes)
    body = f"""<p>Signed in as <strong>{html.escape(user_name)}</strong>.</p>
<p>Allow <strong>{client}</strong> to access your data?</p>
<ul>{scopes}</ul>
<form method="post" action="{AUTHORIZE_PAGE}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="consent">
<input type="hidden" name="ticket" value="{html.escape(ticket)}">
<input type="hidden" name="state" value="{html.escape(checked.state)}">
<button type="submit" name="decision" value="allow">Allow access</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>"""
    return form_page(200, "Allow access", body, AUTHORIZE_PAGE, (_origin(checked.redirect_uri),))


#: The consent page, for the external identity provider's return (http/sso_external.py).
consent_form = _consent_form


def _redirect(redirect_uri: str, params: dict[str, str], state: str) -> HttpResponse:
    """A 303 to the (already checked) redirect URI with OAuth's parameters added."""
    if state:
        params = {**params, "state": state}
    parts = urlsplit(redirect_uri)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    # A registered path may hold any character; the header must be ASCII.
    location = quote(
        urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")), safe=_URI_SAFE
    )
    return HttpResponse(
        303,
        [
            (b"location", location.encode("ascii")),
            (b"cache-control", b"no-store"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-type", b"text/plain"),
        ],
        b"",
    )


def _origin(uri: str) -> str:
    # The URI was checked (http, a loopback IP literal, a numeric port): safe in a header.
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _error_page(message: str, status: int = 400) -> HttpResponse:
    return page_response(status, "Sign-in failed", f'<p role="alert">{html.escape(message)}</p>')
