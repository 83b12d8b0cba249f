"""Operations run as the signed-in console user, and the sections pages make of them.

Every read and write of a console page goes through `AwsPipeline.run_as` here: the
same parsing, authorization, operation and audit record as a signed API request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from iamd.errors import AwsError
from iamd.http.pipeline import AwsPipeline, HttpRequest
from iamd.principals.credentials import ResolvedCredential
from iamd.services.console_sessions import ConsoleSession

IAM_VERSION = "2010-05-08"
STS_VERSION = "2011-06-15"


@dataclass(frozen=True, slots=True)
class Section:
    """One part of a page: its data, or the refusal that stands in its place."""

    data: Any = None
    denied: str | None = None


def bar(session: ConsoleSession) -> dict[str, Any]:
    """What every signed-in page's header shows (signed_in_bar.html)."""
    return {
        "csrf": session.csrf,
        "user_name": session.user_name,
        "account_id": session.account_id,
        "mfa_signed_in": session.claims.mfa_authenticated is not None,
        "role": session.role,
    }


class AsUser:
    """Operations as the signed-in user (or the role it switched to: `credential`)."""

    def __init__(
        self,
        pipeline: AwsPipeline,
        request: HttpRequest,
        credential: ResolvedCredential,
        session: ConsoleSession,
    ) -> None:
        self._pipeline = pipeline
        self._request = request
        self._credential = credential
        self.user_name = session.user_name
        self.account_id = session.account_id

    def __call__(self, action: str, **params: str) -> dict[str, Any]:
        form = {"Action": action, "Version": IAM_VERSION, **params}
        return self._pipeline.run_as(self._request, self._credential, form) or {}

    def sts(self, action: str, **params: str) -> dict[str, Any]:
        form = {"Action": action, "Version": STS_VERSION, **params}
        return self._pipeline.run_as(self._request, self._credential, form, "sts") or {}

    def section(self, read: Callable[[AsUser], Any]) -> Section:
        try:
            return Section(data=read(self))
        except AwsError as error:
            return Section(denied=error.message or error.code)
