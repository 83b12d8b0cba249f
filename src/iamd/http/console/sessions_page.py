"""Console sessions: the signed-in user's own (`/console/sessions`: each open session's
sign-in time, last request, source IP and browser, with sign-out of the others), and a
user's sessions on its administrator page, which an administrator may end.

A user's own sessions are theirs to see and end, as a signed-in browser is theirs to
sign out: no permission is asked. Another user's are not an API resource, so the page
asks the policy engine, as the signed-in principal, for the IAM action that already
controls that user's console access: `iam:GetLoginProfile` on the user to list them,
`iam:DeleteLoginProfile` to end them (whoever may delete the user's console password
may already end its sessions that way: deleting it signs the user out).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from iamd.errors import AwsError
from iamd.http.console import pages
from iamd.http.console.as_user import Section, bar
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import (
    ConsoleSession,
    ConsoleSessions,
    SessionInfo,
    handle_of,
)

SESSIONS_PAGE = f"{pages.PREFIX}/sessions"
LIST_ACTION = "iam:GetLoginProfile"
END_ACTION = "iam:DeleteLoginProfile"


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True, slots=True)
class SessionRowView:
    handle: str
    created: str
    last_seen: str
    source_ip: str
    user_agent: str
    mfa: bool
    current: bool


def rows(found: list[SessionInfo], current: str = "") -> list[SessionRowView]:
    return [
        SessionRowView(
            s.handle,
            _when(s.issued),
            _when(s.last_seen),
            s.source_ip or "-",
            s.user_agent or "-",
            s.mfa,
            s.handle == current,
        )
        for s in found
    ]


class SessionsPage:
    def __init__(
        self, pipeline: AwsPipeline, sessions: ConsoleSessions, now: Callable[[], datetime]
    ) -> None:
        self._pipeline = pipeline
        self._sessions = sessions
        self._now = now

    # -- the signed-in user's own ------------------------------------------------------

    def __call__(
        self, token: str, session: ConsoleSession, fields: Mapping[str, str] | None
    ) -> HttpResponse:
        account, user_id = session.account_id, session.claims.principal_id
        current = handle_of(token)
        problem = done = None
        status = 200
        if fields is not None:
            action = fields.get("action", "")
            handle = fields.get("handle", "")[:64]
            if action == "end-others":
                ended = self._sessions.end_of_user(account, user_id, keep=token)
                done = f"Signed out {ended} other session{'s' if ended != 1 else ''}."
            elif action == "end" and handle and handle != current:
                ended = self._sessions.end_of_user(account, user_id, handle=handle)
                done = "Signed out that session." if ended else None
                if not ended:
                    problem, status = "That session has already ended.", 400
            elif action == "end":
                problem, status = "To end this session, use Sign out.", 400
            else:
                problem, status = "Unknown action. Nothing was changed.", 400
        found = self._sessions.of_user(account, user_id, self._now())
        return pages.render(
            status,
            "sessions.html",
            title="Sessions",
            **bar(session),
            problem=problem,
            done=done,
            sessions=rows(found, current),
        )

    # -- a user's, for an administrator ------------------------------------------------

    def of_user(
        self,
        request: HttpRequest,
        credential: ResolvedCredential,
        user: Mapping[str, str],
    ) -> Section:
        """The user's open sessions, or the AccessDenied of `iam:GetLoginProfile`."""
        try:
            self._pipeline.authorize_as(request, credential, LIST_ACTION, user["Arn"])
        except AwsError as error:
            return Section(denied=error.message or error.code)
        account = user["Arn"].split(":")[4]
        return Section(data=rows(self._sessions.of_user(account, user["UserId"], self._now())))

    def end_of_user(
        self,
        request: HttpRequest,
        credential: ResolvedCredential,
        user: Mapping[str, str],
        token: str,
    ) -> str:
        """End the user's sessions (AccessDenied unless `iam:DeleteLoginProfile` on the
        user); the signed-in session itself stays when it is the user's own."""
        self._pipeline.authorize_as(request, credential, END_ACTION, user["Arn"])
        account = user["Arn"].split(":")[4]
        ended = self._sessions.end_of_user(account, user["UserId"], keep=token)
        return f"Ended {ended} console session{'s' if ended != 1 else ''} of {user['UserName']}."
