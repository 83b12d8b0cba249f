"""The sign-in pages' side of an external SAML identity provider (services/external_idp.py):
the one hook the device page, /authorize and the portal page ask ("password form, or
off to the provider?"), the assertion consumer service (`POST /saml/acs`) the provider's Response
comes back to, the device flow's consent after it, and the instance's service provider
metadata (`GET /saml/metadata?identity_store_id=d-...`).

The provider posts its Response from another site, so that post carries no cookie and
no CSRF token: the RelayState ticket (single-use, bound to the waiting request), the
signature and the replay cache stand for it. The consent form that follows is an
ordinary page of iamd's, with its CSRF token. No page or log line holds a Response.
Each answer, accepted or refused, is an event of the audit trail (http/sso_trail.py),
which names the refusal but never holds the answer.
"""

from __future__ import annotations

import html

from iamd.http.pipeline import HttpRequest, HttpResponse
from iamd.http.sso_authorize import AUTHORIZE_PAGE, consent_form
from iamd.http.sso_pages import base_url, csrf_ok, form_fields, form_page, page_response
from iamd.http.sso_portal_page import PORTAL_PAGE, portal_session_opened
from iamd.http.sso_trail import SsoTrail
from iamd.model.identity_center import Instance
from iamd.services.container import Services
from iamd.services.external_idp import ACS_PATH, SP_METADATA_PATH, SignInRefused, sp_metadata
from iamd.services.sso_oidc import AuthorizationRefused, AuthorizationRequest, UntrustedRedirect

PATHS = frozenset({ACS_PATH, SP_METADATA_PATH})
#: A SAMLResponse larger than this is refused unread (real ones are a few KiB).
MAX_RESPONSE = 256 * 1024


#: The page each kind of sign-in started at (its events' LoginTo).
_PAGES = {"device": "/device", "authorize": AUTHORIZE_PAGE, "portal": PORTAL_PAGE}


class ExternalSignIn:
    def __init__(self, services: Services, trail: SsoTrail) -> None:
        self._services = services
        self._trail = trail

    # -- the hook ----------------------------------------------------------------------

    def device(self, instance: Instance, user_code: str) -> HttpResponse | None:
        """A redirect to the provider for a device code, when the instance has one."""
        return self._begin(instance, "device", {"user_code": user_code})

    def authorize(self, checked: AuthorizationRequest) -> HttpResponse | None:
        """A redirect to the provider for a checked /authorize request, when the
        instance has one (the request is checked again when the answer comes back)."""
        return self._begin(
            checked.instance,
            "authorize",
            {
                "client_id": checked.client_id,
                "redirect_uri": checked.redirect_uri,
                "state": checked.state,
                "code_challenge": checked.code_challenge,
                "scopes": " ".join(checked.scopes),
            },
        )

    def portal(self, instance: Instance) -> HttpResponse | None:
        """A redirect to the provider for a sign-in at the access portal page."""
        return self._begin(instance, "portal", {})

    def _begin(self, instance: Instance, kind: str, payload: dict[str, str]) -> HttpResponse | None:
        external = self._services.external_idp
        source = external.source_of(instance.instance_arn)
        if source is None:
            return None
        location = external.begin(instance, source, kind, payload)
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

    # -- the endpoints -----------------------------------------------------------------

    def __call__(self, path: str, request: HttpRequest, query: dict[str, str]) -> HttpResponse:
        if path == SP_METADATA_PATH:
            return self._metadata(query)
        if request.method != "POST":
            return HttpResponse(405, [(b"content-type", b"text/plain")], b"Method not allowed\n")
        if len(request.body) > MAX_RESPONSE:
            return _refused("The identity provider's answer is too large.", 413)
        fields = form_fields(request)
        if fields.get("step") == "consent":
            return self._device_consent(request, fields)
        try:
            accepted = self._services.external_idp.accept(
                fields.get("RelayState", ""), fields.get("SAMLResponse", "")
            )
        except SignInRefused as refused:
            user = refused.user
            self._trail.external_sign_in(
                request,
                refused.instance,
                "",
                user.user_id if user is not None else None,
                user.user_name if user is not None else refused.subject,
                (refused.code, str(refused)),
            )
            return _refused(str(refused), 403)
        self._trail.external_sign_in(
            request,
            accepted.instance,
            f"{base_url(request)}{_PAGES.get(accepted.sign_in.kind, '')}",
            accepted.user.user_id,
            accepted.user.user_name,
        )
        payload = accepted.sign_in.payload
        if accepted.sign_in.kind == "portal":
            cookie = self._services.portal_sessions.open(
                accepted.instance.instance_arn, accepted.user.user_id, mfa=False
            )
            return portal_session_opened(request, cookie)
        if accepted.sign_in.kind == "device":
            found = self._services.sso_oidc.pending_device(payload.get("user_code", ""))
            if found is None:
                return _refused("That code is not valid or has expired.", 400)
            ticket = self._services.external_idp.hold_for_consent(accepted)
            return _device_consent_form(ticket, found[1], accepted.user.user_name)
        try:
            checked = self._services.sso_oidc.check_authorization(
                payload.get("client_id", ""),
                payload.get("redirect_uri", ""),
                "code",
                payload.get("state", ""),
                payload.get("code_challenge", ""),
                "S256",
                payload.get("scopes", ""),
            )
        except (UntrustedRedirect, AuthorizationRefused):
            return _refused("The sign-in request is no longer valid; start again.", 400)
        if checked.instance.instance_arn != accepted.instance.instance_arn:
            return _refused("The sign-in request is no longer valid; start again.", 400)
        ticket = self._services.sso_oidc.begin_consent(checked, accepted.user.user_id)
        return consent_form(checked, ticket, accepted.user.user_name)

    def _device_consent(self, request: HttpRequest, fields: dict[str, str]) -> HttpResponse:
        if not csrf_ok(request, fields):
            return _refused("The form expired; start the sign-in again.", 403)
        sign_in = self._services.external_idp.take_consent(fields.get("ticket", ""))
        if sign_in is None or sign_in.user_id is None:
            return _refused("This sign-in has expired or was already used; start again.", 400)
        approved = fields.get("decision") == "allow"
        user_code = sign_in.payload.get("user_code", "")
        if not self._services.sso_oidc.decide_device(user_code, sign_in.user_id, approved):
            return _refused("That code is not valid or has expired.", 400)
        if approved:
            return page_response(200, "Request approved", "<p>You may close this page.</p>")
        return page_response(200, "Request denied", "<p>The request was denied.</p>")

    def _metadata(self, query: dict[str, str]) -> HttpResponse:
        store_id = query.get("identity_store_id", "")[:36]
        instance = self._services.external_idp.instance_of_store(store_id) if store_id else None
        if instance is None:
            return HttpResponse(404, [(b"content-type", b"text/plain")], b"No such instance\n")
        document = sp_metadata(self._services.external_idp.public_url, store_id)
        return HttpResponse(
            200, [(b"content-type", b"application/samlmetadata+xml")], document.encode()
        )


def _device_consent_form(ticket: str, client_name: str, user_name: str) -> HttpResponse:
    body = f"""<p>Signed in as <strong>{html.escape(user_name)}</strong>.</p>
<p>Allow <strong>{html.escape(client_name)}</strong> to access your data?</p>
<form method="post" action="{ACS_PATH}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="consent">
<input type="hidden" name="ticket" value="{html.escape(ticket)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>"""
    return form_page(200, "Authorize request", body, ACS_PATH)


def _refused(message: str, status: int) -> HttpResponse:
    return page_response(status, "Sign-in failed", f'<p role="alert">{html.escape(message)}</p>')
