"""The MFA step the Identity Center sign-in pages (device page, /authorize, the portal)
share: after a correct password, either nothing (the instance asks no MFA), or a form for
the code of the user's authenticator app, or, for a user with none, a registration form
(the app's QR code, drawn by the server, and its secret key behind a reveal) that takes
the app's current code. The form carries only a one-time ticket (services/sso_mfa.py)
and the CSRF token; the page goes on only once `verify` accepts a code for that ticket.
No page holds a code; the seed appears only on the registration form it belongs to.
"""

from __future__ import annotations

import base64
import html
import uuid
from collections.abc import Mapping
from typing import Any

from iamd.http.pipeline import HttpRequest, HttpResponse
from iamd.http.sso_pages import csrf_ok, form_page, page_response
from iamd.http.sso_trail import SsoTrail
from iamd.services.container import Services
from iamd.services.sso_mfa import Challenge, MfaBlocked, Refused, Registration, Verified
from iamd.services.sso_portal import SignedIn

MESSAGES = {
    "wrong": (
        401,
        "The authenticator code is incorrect or was already used. Enter the app's current code.",
    ),
    "throttled": (429, "Too many attempts; try again later."),
    "expired": (400, "This sign-in is not valid or has expired; sign in again."),
    "csrf": (403, "The form expired; sign in again."),
    "spent": (401, "Too many incorrect codes; sign in again."),
}


def message_of(refused: Refused) -> tuple[int, str]:
    """The status and message of a refused code's page."""
    if refused.reason in ("wrong", "throttled") and not refused.ticket_alive:
        return MESSAGES["spent"]
    return MESSAGES[refused.reason]


class MfaStep:
    def __init__(self, services: Services, trail: SsoTrail) -> None:
        self._services = services
        self._trail = trail

    def after_password(
        self,
        request: HttpRequest,
        signed_in: SignedIn,
        user_name: str,
        purpose: str,
        context: dict[str, Any],
        login_to: str,
        action: str,
    ) -> HttpResponse | None:
        """The MFA form for a user whose password was right, or None when no MFA is
        asked (the caller signs them in). Records the password check either way."""
        try:
            challenge = self._services.sso_mfa.begin(
                signed_in.instance, signed_in.user, purpose, context
            )
        except MfaBlocked:
            # The password was right and MFA was asked for; no code could answer it.
            self._trail.password_checked(
                request, signed_in.instance, user_name, signed_in, login_to, str(uuid.uuid4())
            )
            return page_response(
                403,
                "Sign-in blocked",
                '<p role="alert">Your administrator requires an MFA device, and you have '
                "none registered. Ask your administrator for help.</p>",
            )
        self._trail.password_checked(
            request,
            signed_in.instance,
            user_name,
            signed_in,
            login_to,
            challenge.workflow if challenge is not None else None,
        )
        if challenge is None:
            return None
        return mfa_form(action, challenge, None)

    def verify(
        self, request: HttpRequest, fields: Mapping[str, str], purpose: str, login_to: str
    ) -> Verified | Refused:
        """The MFA form's post: Verified (the page goes on) or Refused (see `refusal`)."""
        if not csrf_ok(request, dict(fields)):
            return Refused("csrf")
        result = self._services.sso_mfa.verify(
            fields.get("ticket", "")[:128], fields.get("code", "").strip()[:16], purpose
        )
        if isinstance(result, Verified):
            self._trail.code_checked(
                request,
                result.instance_arn,
                result.user_id,
                result.workflow,
                login_to,
                success=True,
            )
        elif result.reason == "wrong" and result.user_id and result.instance_arn:
            self._trail.code_checked(
                request,
                result.instance_arn,
                result.user_id,
                result.workflow or "",
                login_to,
                success=False,
            )
        return result


def refusal(refused: Refused, action: str, ticket: str, start_over: HttpResponse) -> HttpResponse:
    """The page for a refused code: the same MFA form with the reason while the ticket
    lives, else `start_over` (the page's own sign-in form, with its message). A post
    without its CSRF token decides nothing and spends nothing: it starts over too."""
    if refused.reason == "csrf" or not refused.ticket_alive:
        return start_over
    status, message = message_of(refused)
    return mfa_form(action, Challenge(ticket, "", refused.registration), message, status)


def mfa_form(
    action: str,
    challenge: Challenge,
    message: str | None,
    status: int = 200,
) -> HttpResponse:
    notice = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    registration = challenge.registration
    if registration is not None:
        title = "Register an MFA device"
        intro = _registration_html(registration)
    else:
        title = "Verify your identity"
        intro = "<p>Enter the code your authenticator app shows.</p>"
    body = f"""{notice}
{intro}
<form method="post" action="{action}">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="step" value="mfa">
<input type="hidden" name="ticket" value="{html.escape(challenge.ticket)}">
<label>Authenticator code <input name="code" inputmode="numeric" pattern="[0-9]{{6}}"
 maxlength="6" autocomplete="one-time-code" required></label>
<button type="submit">Verify</button>
</form>"""
    return form_page(status, title, body, action)


def _registration_html(registration: Registration) -> str:
    png = base64.b64encode(registration.qr_png).decode("ascii")
    seed = html.escape(registration.seed_base32)
    return f"""<p>Your administrator requires multi-factor authentication. Scan this QR code
with an authenticator app, then enter the code the app shows.</p>
<img src="data:image/png;base64,{png}" alt="QR code for your authenticator app"
 width="240" height="240">
<details><summary>Show secret key</summary>
<p>Or type this key into the app: <code id="mfa-secret">{seed}</code></p></details>"""
