"""Switch role (`/console/switch-role`): assume a role and act as it, with a coloured
banner on every page, until switching back.

Switching is sts:AssumeRole run as the signed-in user (the role's trust policy and the
user's own policies decide, as for the CLI). The role session it returns is kept with
the console session (its session token, which holds the secret sealed); every later page
resolves it as any STS session is resolved, so its permissions are the role's as they
are now, and it ends when the role session expires (one hour) or the role is deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from iamd.errors import AwsError
from iamd.http.console import pages
from iamd.http.console.as_user import AsUser, bar
from iamd.http.pipeline import AwsPipeline, HttpRequest, HttpResponse
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession, ConsoleSessions

SWITCH_ROLE_PAGE = f"{pages.PREFIX}/switch-role"
#: The banner colours offered, as AWS's switch-role page offers a few.
COLORS = ("red", "orange", "yellow", "green", "blue")
_ACCOUNT = re.compile(r"\d{12}")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_SESSION_SECONDS = "3600"


class SwitchRolePage:
    def __init__(self, pipeline: AwsPipeline, sessions: ConsoleSessions) -> None:
        self._pipeline = pipeline
        self._sessions = sessions

    def __call__(
        self,
        request: HttpRequest,
        token: str,
        session: ConsoleSession,
        credential: ResolvedCredential,
        user_credential: ResolvedCredential,
        fields: Mapping[str, str] | None,
    ) -> HttpResponse:
        problem = None
        status = 200
        if fields is not None:
            if fields.get("action") == "back":
                self._sessions.switch_back(token)
                return pages.redirect(SWITCH_ROLE_PAGE)
            try:
                self._switch(request, token, session, user_credential, fields)
            except AwsError as error:
                problem, status = pages.refusal(error)
            except ValueError as bad:
                problem, status = str(bad), 400
            else:
                return pages.redirect(f"{pages.PREFIX}/users")
        return pages.render(
            status,
            "switch_role.html",
            title="Switch role",
            **bar(session),
            problem=problem,
            colors=COLORS,
            acting_arn=credential.caller.arn if session.role else None,
            values=fields or {"account": session.account_id},
        )

    def _switch(
        self,
        request: HttpRequest,
        token: str,
        session: ConsoleSession,
        user_credential: ResolvedCredential,
        fields: Mapping[str, str],
    ) -> None:
        account = fields.get("account", "").strip()
        role_name = fields.get("role", "").strip()
        if not _ACCOUNT.fullmatch(account) or not _ROLE_NAME.fullmatch(role_name):
            raise ValueError("Enter a 12-digit account ID and a role name.")
        color = fields.get("color", "")
        if color not in COLORS:
            color = COLORS[-1]
        label = fields.get("label", "").strip()[:64] or role_name
        role_arn = f"arn:aws:iam::{account}:role/{role_name}"
        # Always as the user: a role session does not switch on to another role here.
        call = AsUser(self._pipeline, request, user_credential, session)
        assumed = call.sts(
            "AssumeRole",
            RoleArn=role_arn,
            RoleSessionName=session.user_name,
            DurationSeconds=_SESSION_SECONDS,
        )
        issued = assumed["Credentials"]
        self._sessions.switch_role(
            token, issued["AccessKeyId"], issued["SessionToken"], role_arn, label, color
        )
