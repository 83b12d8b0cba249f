"""`POST /_iamd/signin`: password sign-in of an IAM user, for the console and SSO portal.

The body is JSON (`application/json`) or a form (`application/x-www-form-urlencoded`)
with `account` (the account id or its alias), `userName`, `password` and, to replace a
password that must be changed first, `newPassword`. The answer is JSON:
`{"outcome": ..., "userName", "arn", "userId"}` (the user's identity only once the
password proved right), with the HTTP status the outcome deserves; a throttled attempt
carries `Retry-After`. No answer, log line or error ever holds a password, and the
answers for an unknown user and a wrong password are the same.

It runs on the worker threads: checking a password costs an argon2 computation. At
most `max_concurrent` attempts are checked at a time (half the pool by default); more
are answered `throttled` at once, so a flood of sign-ins cannot starve the API's writes.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from iamd.errors import ServiceUnavailable
from iamd.http.failure_log import FailureLog
from iamd.http.pipeline import HttpRequest, HttpResponse
from iamd.protocol.form import header
from iamd.services.container import Services
from iamd.services.sign_in import Outcome, SignInResult
from iamd.services.trail import TrailRecorder, check_mfa_event, sign_in_event
from iamd.telemetry.access_log import AccessLog
from iamd.telemetry.metrics import Metrics

_STATUS = {
    Outcome.SIGNED_IN: 200,
    Outcome.INVALID_CREDENTIALS: 401,
    Outcome.THROTTLED: 429,
    Outcome.PASSWORD_RESET_REQUIRED: 403,
    Outcome.PASSWORD_EXPIRED: 403,
    Outcome.PASSWORD_EXPIRED_HARD: 403,
    Outcome.NEW_PASSWORD_REJECTED: 403,
}
# IAM's own constraints on these values (userNameType, passwordType).
_USER_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_PASSWORD = re.compile(r"[\t\n\r\u0020-\u00ff]{1,128}")
_ACCOUNT = re.compile(r"[a-z0-9-]{1,63}|\d{12}", re.IGNORECASE)
#: The largest sign-in body taken: four fields of at most 128 characters, each up to
#: six bytes once escaped as JSON or percent-encoded, and room for the syntax.
MAX_BODY_BYTES = 8 * 1024


log = logging.getLogger(__name__)
_failures = FailureLog(log)


class BadSignInRequest(ValueError):
    """A request that is not a sign-in attempt; its message never quotes a value."""


class SignInEndpoint:
    def __init__(
        self,
        services: Services,
        access_log: AccessLog | None = None,
        *,
        max_concurrent: int = 4,
        metrics: Metrics | None = None,
        trail: TrailRecorder | None = None,
    ) -> None:
        self._services = services
        self._trail = trail
        self._access_log = access_log
        self._metrics = metrics
        self._slots = threading.BoundedSemaphore(max(1, max_concurrent))

    def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = self._services.ids.request_id()
        principal = "-"
        if request.method != "POST":
            status, payload, outcome = 405, {"outcome": "method_not_allowed"}, "MethodNotAllowed"
        else:
            try:
                fields = _fields(request)
                result = self.verify(fields)
            except BadSignInRequest as bad:
                status, payload, outcome = (
                    400,
                    {"outcome": "bad_request", "message": str(bad)},
                    "BadRequest",
                )
            except ServiceUnavailable:
                # The database is away (logged once by it): retryable, no traceback.
                status, payload, outcome = (
                    503,
                    {"outcome": "service_unavailable", "requestId": request_id},
                    ServiceUnavailable.code,
                )
            except Exception as exc:
                # Never a bare 500 from uvicorn: JSON, the request id, and a log line
                # (without the body, which holds a password), once per distinct failure.
                _failures.exception(exc, "sign-in %s failed", request_id)
                status, payload, outcome = (
                    500,
                    {"outcome": "internal_failure", "requestId": request_id},
                    "InternalFailure",
                )
            else:
                status, payload, outcome = (
                    _STATUS[result.outcome],
                    _payload(result),
                    result.outcome.value,
                )
                principal = result.user_arn or "-"
                if result.outcome is not Outcome.THROTTLED:
                    self.record(request, request_id, fields, result)
        headers = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            (b"x-amzn-requestid", request_id.encode("ascii")),
        ]
        if "retryAfterSeconds" in payload:
            headers.append((b"retry-after", str(payload["retryAfterSeconds"]).encode()))
        if self._metrics is not None:
            self._metrics.sign_ins.inc(outcome)
        if self._access_log is not None:
            self._access_log.record(
                request_id,
                request.client_ip,
                "SignIn",
                principal,
                status,
                outcome,
                (time.perf_counter() - started) * 1000,
            )
        return HttpResponse(status, headers, json.dumps(payload).encode())

    def record(
        self,
        request: HttpRequest,
        request_id: str,
        fields: dict[str, str],
        result: SignInResult,
        *,
        mfa_used: bool = False,
        succeeded: bool | None = None,
    ) -> None:
        """The attempt's ConsoleLogin event (nothing without a trail). The console
        records a right password with a wrong MFA code as a failure (`succeeded`)."""
        if self._trail is None:
            return
        services = self._services.for_sign_in(fields["account"])

        def find_user(name: str) -> tuple[str, str] | None:
            try:
                user = services.users.get(name)
            except Exception:
                return None
            return user.user_id, user.arn

        self._trail.record(
            sign_in_event(
                services.account_id,
                self._services.clock.now(),
                request.client_ip,
                header(request.headers, b"user-agent") or None,
                request_id,
                fields["userName"],
                result.outcome is Outcome.SIGNED_IN if succeeded is None else succeeded,
                result.user_id,
                result.user_arn,
                find_user,
                mfa_used,
            )
        )

    def record_mfa_check(
        self, request: HttpRequest, request_id: str, account_id: str, result: SignInResult
    ) -> None:
        """The CheckMfa event of a right password whose user has an MFA device (the
        console asks for the code next)."""
        if self._trail is None or result.user_id is None:
            return
        self._trail.record(
            check_mfa_event(
                account_id,
                self._services.clock.now(),
                request.client_ip,
                header(request.headers, b"user-agent") or None,
                request_id,
                result.user_name or "",
                result.user_id,
            )
        )

    def verify(self, fields: dict[str, str]) -> SignInResult:
        """Check one attempt (`account`, `userName`, `password`, maybe `newPassword`),
        at most `max_concurrent` at a time: the web console's sign-in uses this too."""
        if not self._slots.acquire(blocking=False):
            return _busy()
        try:
            # The console asks for the account id or alias: the sign-in is that account's
            # (an unknown one is checked by the bootstrap account, which refuses it at
            # the cost of a wrong password).
            services = self._services.for_sign_in(fields["account"])
            return services.sign_in.verify(
                fields["account"], fields["userName"], fields["password"], fields.get("newPassword")
            )
        finally:
            self._slots.release()


def _busy() -> SignInResult:
    return SignInResult(Outcome.THROTTLED, retry_after_seconds=1)


def _payload(result: SignInResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"outcome": result.outcome.value}
    if result.user_name is not None:
        payload.update(userName=result.user_name, arn=result.user_arn, userId=result.user_id)
    if result.retry_after_seconds is not None:
        payload["retryAfterSeconds"] = result.retry_after_seconds
    return payload


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _fields(request: HttpRequest) -> dict[str, str]:
    """The sign-in fields, each a string IAM's constraints accept, or BadSignInRequest.

    Anything else (a number where a string belongs, NaN, a repeated field, an oversized
    body) is refused before any work; other fields are ignored.
    """
    if len(request.body) > MAX_BODY_BYTES:
        raise BadSignInRequest("the body is too large")
    content_type = header(request.headers, b"content-type").split(";")[0].strip().lower()
    raw: dict[str, Any]
    try:
        if content_type == "application/json":
            # ValueError also covers numbers past Python's 4,300-digit limit.
            decoded = json.loads(request.body.decode("utf-8"), parse_constant=_refuse_constant)
            if not isinstance(decoded, dict):
                raise BadSignInRequest("the body must be a JSON object")
            raw = decoded
        elif content_type == "application/x-www-form-urlencoded":
            pairs = parse_qsl(
                request.body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                errors="strict",
            )
            raw = dict(pairs)
            if len(raw) != len(pairs):
                raise BadSignInRequest("a field is given more than once")
        else:
            raise BadSignInRequest("send application/json or application/x-www-form-urlencoded")
    except (ValueError, RecursionError):
        raise BadSignInRequest("the body cannot be read") from None
    return checked_fields(raw)


def checked_fields(raw: Mapping[str, Any]) -> dict[str, str]:
    """The sign-in fields of `raw`, each a string IAM's constraints accept, or
    BadSignInRequest naming the first that is not (never quoting its value)."""
    fields: dict[str, str] = {}
    for name, pattern, required in (
        ("account", _ACCOUNT, True),
        ("userName", _USER_NAME, True),
        ("password", _PASSWORD, True),
        ("newPassword", _PASSWORD, False),
    ):
        value = raw.get(name)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise BadSignInRequest(f"'{name}' is missing or not valid")
        fields[name] = value
    return fields
