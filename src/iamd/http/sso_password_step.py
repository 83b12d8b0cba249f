"""The password step the Identity Center sign-in pages share (the device page,
/authorize, the access portal page): the store user's password checked (and a one-time
password replaced), the check recorded in the audit trail, and every way it can fail
turned into the message and status the page shows, the same on every page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from iamd.errors import AwsError
from iamd.http.pipeline import HttpRequest
from iamd.http.sso_trail import SsoTrail
from iamd.model.identity_center import Instance
from iamd.services.container import Services
from iamd.services.sso_portal import SignedIn

# Longer user names and passwords are no store user's: cut before they are checked.
_MAX_CREDENTIAL = 128


@dataclass(frozen=True, slots=True)
class PasswordRefused:
    message: str
    status: int
    # The form must ask for a new password (a one-time password, or one the account's
    # rules refused).
    ask_new_password: bool = False


def sign_in_name(fields: Mapping[str, str]) -> str:
    return fields.get("username", "")[:_MAX_CREDENTIAL]


def check_password(
    services: Services,
    trail: SsoTrail,
    request: HttpRequest,
    instance: Instance,
    fields: Mapping[str, str],
    login_to: str,
    *,
    record_success: bool = False,
) -> SignedIn | PasswordRefused:
    """The signed-in user, or why not. A right password is recorded only with
    `record_success` (else the MFA step or the sign-in that follows records it)."""
    user_name = sign_in_name(fields)
    try:
        outcome = services.sso_portal.sign_in(
            instance,
            user_name,
            fields.get("password", "")[:_MAX_CREDENTIAL],
            fields.get("new_password") or None,
        )
    except AwsError as invalid:  # a new password the account's rules refuse
        return PasswordRefused(invalid.message, 400, ask_new_password=True)
    if isinstance(outcome, datetime):
        # Throttled: no password was checked, so nothing is recorded.
        return PasswordRefused("Too many attempts; try again later.", 429)
    if outcome is None or outcome.must_change_password or record_success:
        trail.password_checked(request, instance, user_name, outcome, login_to)
    if outcome is None:
        return PasswordRefused("Incorrect user name or password.", 401)
    if outcome.must_change_password:
        return PasswordRefused(
            "Choose a new password to replace your one-time password.",
            403,
            ask_new_password=True,
        )
    return outcome
