"""The web console's front door: `/console` routes, sign-in and sign-out, sessions.

Sign-in is the password check of `POST /_iamd/signin` (http/sign_in.py: the same
argon2 check, the same back-off ledger, the same `ConsoleLogin` trail events), then the
MFA code when the user has a device, then a server-side session (a row of the database:
services/console_sessions.py). Each later request finds its session by cookie and loads
the user as it is now (`CredentialResolver.resolve_console`): a deleted user, a deleted
console password or a closed account ends the session there. Pages call operations
only through `AwsPipeline.run_as`, as that user.

Runs on a worker thread: password and database work never touch the event loop.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from iamd.errors import AccessDenied, AwsError
from iamd.http.console import pages
from iamd.http.console.admin_pages import (
    GROUPS_PAGE,
    POLICY_CHECK,
    POLICY_EDITOR,
    ROLES_PAGE,
    USERS_PAGE,
    AdminPages,
    check_answer,
)
from iamd.http.console.credentials_page import CredentialsPage
from iamd.http.console.entity_pages import GROUP_PAGE, ROLE_PAGE, EntityPages
from iamd.http.console.organization_page import ORGANIZATION_PAGE, OrganizationPage
from iamd.http.console.policy_pages import POLICIES_PAGE, POLICY_PAGE, PolicyPages
from iamd.http.console.report_page import REPORT_PAGE, ReportPage
from iamd.http.console.sessions_page import SESSIONS_PAGE, SessionsPage
from iamd.http.console.switch_role import SWITCH_ROLE_PAGE, SwitchRolePage
from iamd.http.console.trail_page import TRAIL_PAGE, TrailPage
from iamd.http.console.user_page import USER_PAGE, UserPage
from iamd.http.failure_log import FailureLog
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.http.sign_in import BadSignInRequest, SignInEndpoint, checked_fields
from iamd.ids import IdPrefix
from iamd.principals.credentials import ResolvedCredential
from iamd.protocol.form import header
from iamd.services.console_sessions import ConsoleSession, ConsoleSessions, PendingSignIn
from iamd.services.container import Services
from iamd.services.sign_in import Outcome, SignInResult

log = logging.getLogger(__name__)
_failures = FailureLog(log)

PREFIX = pages.PREFIX
CREDENTIALS_PAGE = f"{PREFIX}/security-credentials"
_SIGN_IN = f"{PREFIX}/signin"
_MFA = f"{PREFIX}/mfa"
_SIGN_OUT = f"{PREFIX}/signout"
#: AWS's console words for a refused sign-in, whatever the reason.
WRONG_CREDENTIALS = "Your authentication information is incorrect. Please try again."
SESSION_ENDED = "Your session has ended. Sign in again."
_MFA_LEDGER_PREFIX = "mfa:"  # user names cannot hold ':', so no password slot is shared


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    session: ConsoleSession
    # Who the pages act as: the user, or the role it switched to.
    credential: ResolvedCredential
    # The user itself (its own security credentials, and switching role).
    user_credential: ResolvedCredential


class ConsoleFront:
    def __init__(
        self,
        services: Services,
        sign_in: SignInEndpoint,
        pipeline: AwsPipeline,
        sessions: ConsoleSessions | None = None,
    ) -> None:
        self._services = services
        self._sign_in = sign_in
        self._sessions = sessions or ConsoleSessions(services.tx)
        self._credentials = CredentialsPage(services, pipeline)
        self._admin = AdminPages(pipeline)
        self._report = ReportPage(pipeline)
        self._switch_role = SwitchRolePage(pipeline, self._sessions)
        self._sessions_page = SessionsPage(pipeline, self._sessions, services.clock.now)
        self._user = UserPage(pipeline, self._sessions_page)
        self._entities = EntityPages(pipeline)
        self._trail = TrailPage(pipeline)
        self._organization = OrganizationPage(pipeline)
        self._policies = PolicyPages(pipeline)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self._answer(request)
        # The page's own time on the server (Server-Timing, which browsers' developer
        # tools show): what bench/console_pages.py measures.
        elapsed = (time.perf_counter() - started) * 1000
        response.headers.append((b"server-timing", f"page;dur={elapsed:.1f}".encode()))
        return response

    def _answer(self, request: HttpRequest) -> HttpResponse:
        path = request.raw_path.decode("latin-1").split("?", 1)[0]
        try:
            return self._route(path, request)
        except pages.FormTooLarge:
            return pages.render(
                413,
                "message.html",
                title="Too large",
                message="The form is too large: an SSH public key or certificate is a few "
                "kilobytes at most. Nothing was changed.",
            )
        except AwsError as error:
            # The database away (ServiceUnavailable) and the like: retryable, said so.
            return pages.render(
                error.status, "message.html", title="Try again", message=error.message or error.code
            )
        except Exception as exc:
            # Never a traceback on a page; logged once, without the form (it may hold
            # a password).
            _failures.exception(exc, "console request failed (%s)", path)
            return pages.render(
                500, "message.html", title="Something went wrong", message="Please try again."
            )

    def _route(self, path: str, request: HttpRequest) -> HttpResponse:
        if path.startswith(pages.STATIC_PREFIX):
            return pages.static_file(path)
        post = request.method == "POST"
        if request.method not in ("GET", "POST"):
            return HttpResponse(405, [(b"content-type", b"text/plain")], b"Method not allowed\n")
        if path in (PREFIX, PREFIX + "/"):
            if post:
                return self._password_step(request)
            if self._current(request) is not None:
                return pages.redirect(CREDENTIALS_PAGE)
            return self._sign_in_page(request)
        if path == _SIGN_IN and post:
            return self._password_step(request)
        if path == _MFA and post:
            return self._mfa_step(request)
        if path == _SIGN_OUT and post:
            return self._sign_out(request)
        if path in (_SIGN_IN, _MFA, _SIGN_OUT):
            # A bookmarked or reloaded form target: start from the sign-in page.
            return pages.redirect(PREFIX)
        if path in (TRAIL_PAGE, POLICIES_PAGE, ORGANIZATION_PAGE) and not post:
            signed_in = self._current(request)
            if signed_in is None:
                return self._ended(request)
            if path == TRAIL_PAGE:
                return self._trail(request, signed_in.session, signed_in.credential)
            if path == ORGANIZATION_PAGE:
                return self._organization(request, signed_in.session, signed_in.credential)
            return self._policies.policies(request, signed_in.session, signed_in.credential)
        if path == POLICY_CHECK and post:
            signed_in = self._current(request)
            fields = pages.form_fields(request)
            if signed_in is None or not _csrf_matches(signed_in.session, fields):
                return pages.json_answer(403, {"message": SESSION_ENDED})
            return check_answer(fields)
        if path in (
            CREDENTIALS_PAGE,
            USERS_PAGE,
            USER_PAGE,
            GROUPS_PAGE,
            GROUP_PAGE,
            ROLES_PAGE,
            ROLE_PAGE,
            POLICY_PAGE,
            POLICY_EDITOR,
            REPORT_PAGE,
            SWITCH_ROLE_PAGE,
            SESSIONS_PAGE,
        ):
            signed_in = self._current(request)
            if signed_in is None:
                return self._ended(request)
            return self._signed_in_page(path, request, signed_in)
        return pages.not_found()

    def _signed_in_page(self, path: str, request: HttpRequest, signed_in: SignedIn) -> HttpResponse:
        session, credential = signed_in.session, signed_in.credential
        fields = pages.form_fields(request) if request.method == "POST" else None
        if fields is not None and not _csrf_matches(session, fields):
            return pages.render(
                403,
                "message.html",
                title="Nothing was changed",
                message="The form expired or did not come from this page. Nothing was "
                "changed; please try again.",
            )
        if path == SWITCH_ROLE_PAGE:
            return self._switch_role(
                request, signed_in.token, session, credential, signed_in.user_credential, fields
            )
        if path == USERS_PAGE:
            return self._admin.users(request, session, credential, fields)
        if path == USER_PAGE:
            return self._user(request, signed_in.token, session, credential, fields)
        if path == SESSIONS_PAGE:
            return self._sessions_page(signed_in.token, session, fields)
        if path in (GROUPS_PAGE, ROLES_PAGE):
            return self._entities.listing(path, request, session, credential, fields)
        if path in (GROUP_PAGE, ROLE_PAGE):
            return self._entities.entity(path, request, session, credential, fields)
        if path == POLICY_PAGE:
            return self._policies.policy(request, session, credential, fields)
        if path == POLICY_EDITOR:
            return self._admin.policy_editor(request, session, credential, fields)
        if path == REPORT_PAGE:
            now = self._services.clock.now()
            return self._report(request, session, credential, fields, now)
        # A user's own security credentials, whatever role it switched to.
        own = signed_in.user_credential
        if fields is None:
            return self._credentials.show(request, session, own)
        return self._credentials.act(request, session, own, fields)

    # -- sessions ----------------------------------------------------------------------

    def _current(self, request: HttpRequest) -> SignedIn | None:
        token = pages.session_token(request)
        if not token:
            return None
        session = self._sessions.find(token, self._services.clock.now())
        if session is None:
            return None
        user_credential = self._services.credentials.resolve_console(session.claims)
        passwords = self._services.in_account(session.account_id).passwords
        if user_credential is None or not passwords.has_login_profile(session.claims.principal_id):
            # The user (or its account) is gone, or may no longer sign in to the console
            # (its password was deleted): so is the session.
            self._sessions.end(token)
            return None
        credential = user_credential
        if session.role is not None:
            try:
                credential = self._services.credentials.resolve_session(
                    session.role.access_key_id,
                    session.role.session_token,
                    self._services.clock.now(),
                )
            except AwsError:
                # The role session expired, or its role is gone: back to the user.
                self._sessions.switch_back(token)
                session = dataclasses.replace(session, role=None)
        return SignedIn(token, session, credential, user_credential)

    def _ended(self, request: HttpRequest) -> HttpResponse:
        message = SESSION_ENDED if pages.session_token(request) else None
        response = self._sign_in_page(request, message, 401)
        return pages.with_cookie(response, pages.session_cookie(request.secure, "", max_age=0))

    def _sign_out(self, request: HttpRequest) -> HttpResponse:
        signed_in = self._current(request)
        if signed_in is not None:
            fields = pages.form_fields(request)
            if not _csrf_matches(signed_in.session, fields):
                return self._credentials.show(
                    request,
                    signed_in.session,
                    signed_in.credential,
                    problem="The form expired; you are still signed in.",
                    status=403,
                )
            self._sessions.end(signed_in.token)
        response = self._sign_in_page(request, "You have signed out.")
        return pages.with_cookie(response, pages.session_cookie(request.secure, "", max_age=0))

    def _open_session(
        self, request: HttpRequest, account_id: str, user_name: str, user_id: str, mfa: int | None
    ) -> HttpResponse:
        token, _ = self._sessions.open(
            account_id,
            user_name,
            user_id,
            self._services.ids.key_id(IdPrefix.TEMPORARY_ACCESS_KEY),
            mfa,
            self._services.clock.now(),
            request.client_ip,
            header(request.headers, b"user-agent"),
        )
        return pages.redirect(CREDENTIALS_PAGE, pages.session_cookie(request.secure, token))

    # -- sign-in -----------------------------------------------------------------------

    def _sign_in_page(
        self,
        request: HttpRequest,
        message: str | None = None,
        status: int = 200,
        *,
        again: tuple[str, str] = ("", ""),
        new_password: bool = False,
    ) -> HttpResponse:
        """The sign-in form; `again` is the account and user name typed before."""
        account, user_name = again
        csrf, cookie = pages.sign_in_csrf(request)
        response = pages.render(
            status,
            "sign_in.html",
            title="Sign in",
            csrf=csrf,
            message=message,
            account=account,
            user_name=user_name,
            new_password=new_password,
        )
        return pages.with_cookie(response, cookie)

    def _password_step(self, request: HttpRequest) -> HttpResponse:
        fields = pages.form_fields(request)
        account = fields.get("account", "").strip()[:64]
        user_name = fields.get("username", "").strip()[:64]
        again = (account, user_name)
        if not pages.sign_in_csrf_ok(request, fields):
            return self._sign_in_page(
                request, "The form expired; please sign in again.", 403, again=again
            )
        raw = {"account": account, "userName": user_name, "password": fields.get("password", "")}
        changing = "new_password" in fields
        if changing:
            if fields.get("new_password") != fields.get("confirm_password"):
                return self._sign_in_page(
                    request,
                    "The new passwords do not match.",
                    400,
                    new_password=True,
                    again=again,
                )
            raw["newPassword"] = fields["new_password"]
        try:
            checked = checked_fields(raw)
        except BadSignInRequest:
            return self._sign_in_page(
                request,
                "Enter the account ID or alias, your user name and your password.",
                400,
                new_password=changing,
                again=again,
            )
        request_id = self._services.ids.request_id()
        result = self._sign_in.verify(checked)
        outcome = result.outcome
        if outcome is Outcome.THROTTLED:
            seconds = result.retry_after_seconds or 1
            return self._sign_in_page(
                request,
                f"Too many attempts. Try again in {seconds} seconds.",
                429,
                again=again,
            )
        if outcome is not Outcome.SIGNED_IN:
            self._sign_in.record(request, request_id, checked, result)
            return self._refused(request, outcome, again)
        devices = self._mfa_devices(checked["account"], result)
        if devices:
            # The password was right; CloudTrail records the MFA check (CheckMfa) now and
            # the ConsoleLogin with the code, so a sign-in left at the code has this only.
            self._sign_in.record_mfa_check(
                request, request_id, self._account_id(checked["account"]), result
            )
            ticket = self._sessions.begin_pending(
                checked["account"],
                self._account_id(checked["account"]),
                result.user_name or user_name,
                result.user_id or "",
                result.user_arn or "",
                self._services.clock.now(),
            )
            return self._mfa_page(request, ticket, None, 200)
        self._sign_in.record(request, request_id, checked, result)
        return self._open_session(
            request,
            self._account_id(checked["account"]),
            result.user_name or user_name,
            result.user_id or "",
            None,
        )

    def _refused(
        self, request: HttpRequest, outcome: Outcome, again: tuple[str, str]
    ) -> HttpResponse:
        if outcome in (Outcome.PASSWORD_RESET_REQUIRED, Outcome.PASSWORD_EXPIRED):
            reason = (
                "Your password has expired."
                if outcome is Outcome.PASSWORD_EXPIRED
                else "You must change your password before you continue."
            )
            return self._sign_in_page(
                request,
                f"{reason} Enter your current password and a new one.",
                403,
                new_password=True,
                again=again,
            )
        if outcome is Outcome.NEW_PASSWORD_REJECTED:
            return self._sign_in_page(
                request,
                "The new password does not meet the account's password policy (or was "
                "used before). Choose another.",
                403,
                new_password=True,
                again=again,
            )
        if outcome is Outcome.PASSWORD_EXPIRED_HARD:
            return self._sign_in_page(
                request,
                "Your password has expired. An administrator must reset it.",
                403,
                again=again,
            )
        return self._sign_in_page(request, WRONG_CREDENTIALS, 401, again=again)

    def _account_id(self, account: str) -> str:
        return self._services.for_sign_in(account).account_id

    def _mfa_devices(self, account: str, result: SignInResult) -> list[str]:
        services = self._services.for_sign_in(account)
        try:
            page = services.mfa_devices.of_user(result.user_name or "", None, 100)
        except AwsError:
            return []
        return [device.serial_number for device in page.items]

    def _mfa_page(
        self, request: HttpRequest, ticket: str, message: str | None, status: int
    ) -> HttpResponse:
        csrf, cookie = pages.sign_in_csrf(request)
        response = pages.render(
            status,
            "mfa.html",
            title="Multi-factor authentication",
            csrf=csrf,
            ticket=ticket,
            message=message,
        )
        return pages.with_cookie(response, cookie)

    def _mfa_step(self, request: HttpRequest) -> HttpResponse:
        fields = pages.form_fields(request)
        ticket = fields.get("ticket", "")[:128]
        if not pages.sign_in_csrf_ok(request, fields):
            return self._sign_in_page(request, "The form expired; please sign in again.", 403)
        now = self._services.clock.now()
        pending = self._sessions.pending(ticket, now)
        if pending is None:
            return self._sign_in_page(request, "Your sign-in expired; please sign in again.", 401)
        code = fields.get("code", "").strip()
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            return self._mfa_page(request, ticket, "Enter the six-digit code.", 400)
        services = self._services.in_account(pending.account_id)
        ledger = services.passwords.failures
        slot = _MFA_LEDGER_PREFIX + pending.user_name
        retry = ledger.admit(pending.account_id, slot, now)
        if retry is not None:
            seconds = max(1, int((retry - now).total_seconds() + 0.999))
            return self._mfa_page(
                request, ticket, f"Too many attempts. Try again in {seconds} seconds.", 429
            )
        authenticated = self._check_code(services, pending, code)
        checked = {"account": pending.account, "userName": pending.user_name}
        result = SignInResult(
            Outcome.SIGNED_IN, pending.user_name, pending.user_arn, pending.user_id
        )
        request_id = self._services.ids.request_id()
        if authenticated is None:
            self._sign_in.record(
                request, request_id, checked, result, mfa_used=True, succeeded=False
            )
            return self._mfa_page(
                request, ticket, "The MFA code is not valid. Please try again.", 401
            )
        ledger.forgive(pending.account_id, slot)
        self._sessions.end_pending(ticket)
        self._sign_in.record(request, request_id, checked, result, mfa_used=True)
        return self._open_session(
            request, pending.account_id, pending.user_name, pending.user_id, authenticated
        )

    @staticmethod
    def _check_code(services: Services, pending: PendingSignIn, code: str) -> int | None:
        """The epoch second the code was accepted by one of the user's devices."""
        try:
            serials = [
                device.serial_number
                for device in services.mfa_devices.of_user(pending.user_name, None, 100).items
            ]
        except AwsError:
            return None
        for serial in serials:
            try:
                moment: datetime = services.mfa_devices.authenticate(pending.user_id, serial, code)
            except AccessDenied:
                continue
            return int(moment.timestamp())
        return None


def _csrf_matches(session: ConsoleSession, fields: dict[str, str]) -> bool:
    return secrets.compare_digest(session.csrf, fields.get("csrf", ""))
