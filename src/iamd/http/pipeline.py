"""The one path every AWS API request takes, from bytes to bytes.

authenticate (SigV4) -> parse (service model) -> authorize (action, resource, context)
-> operation -> serialize. Runs on a worker thread (cheap reads run on the event loop
with SQLite; costly operations run a few at a time, Throttling beyond); every failure
becomes an AWS error envelope, and anything unexpected is logged once with its request
id and answered as InternalFailure, never with a traceback or a secret.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from iamd.auth import sigv4
from iamd.auth.session_tokens import SessionKind
from iamd.authz import AuthorizationRequest, Authorizer, sessions
from iamd.errors import (
    AccessDenied,
    AwsError,
    InternalFailure,
    InvalidClientTokenId,
    SignatureDoesNotMatch,
    Throttling,
)
from iamd.http.failure_log import FailureLog
from iamd.model import AccessKeyStatus
from iamd.operations.context_keys import request_condition_keys
from iamd.operations.registry import (
    CallContext,
    Operation,
    OperationTable,
    Params,
    Result,
    unimplemented_operation,
)
from iamd.principals.caller import Caller
from iamd.principals.credentials import ResolvedCredential, is_temporary_key
from iamd.protocol import JsonCodec, QueryCodec
from iamd.protocol.form import DecodedForm, header
from iamd.services.container import Services
from iamd.telemetry.access_log import AccessLog
from iamd.telemetry.metrics import UNKNOWN, Metrics

log = logging.getLogger("iamd.request")
# One traceback per distinct failure, not one per request (a client may repeat it).
_failures = FailureLog(log)

#: A codec per SigV4 service name: Query (iam, sts) or JSON (codecommit, organizations).
Codec = QueryCodec | JsonCodec


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    raw_path: bytes
    raw_query: bytes
    headers: Sequence[tuple[bytes, bytes]]
    body: bytes
    client_ip: str
    secure: bool
    # The Query parameters, when the front already decoded them to decide where the
    # request runs (never decoded twice).
    form: DecodedForm | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class AwsPipeline:
    def __init__(
        self,
        services: Services,
        codecs: Mapping[str, Codec],
        operations: OperationTable,
        authorizer: Authorizer,
        *,
        access_log: AccessLog | None = None,
        max_concurrent_costly: int = 2,
        presigned_max_age: int = sigv4.DEFAULT_PRESIGNED_MAX_AGE_SECONDS,
        metrics: Metrics | None = None,
    ) -> None:
        self._services = services
        self._codecs = codecs
        self._default_codec: Codec = codecs["iam"]
        self._operations = operations
        self._authorizer = authorizer
        self._access_log = access_log
        # Over the bound a costly operation answers Throttling at once (botocore retries
        # it) rather than waiting on a worker thread that others need.
        self._costly_slots = threading.BoundedSemaphore(max(1, max_concurrent_costly))
        self._presigned_max_age = presigned_max_age
        self._metrics = metrics

    def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = self._services.ids.request_id()
        codec = self._default_codec
        operation = "-"
        principal = "-"
        # Metric labels: only the operation table's names, so no request adds a series.
        known_operation = UNKNOWN
        authenticated = False
        try:
            now = self._services.clock.now()
            signed = sigv4.parse_request(
                request.method,
                request.raw_path.decode("latin-1"),
                request.raw_query,
                request.headers,
                request.body,
                now,
                presigned_max_age=self._presigned_max_age,
            )
            found = self._codecs.get(signed.service)
            if found is None:
                raise SignatureDoesNotMatch(
                    f"Credential should be scoped to correct service: '{codec.service_name}'. "
                )
            codec = found
            credential = self._authenticate(signed, now)
            authenticated = True
            principal = credential.caller.arn
            sessions.check_service(credential.caller, signed.service)
            session = credential.session
            if session is None:
                self._services.last_used.record(
                    credential.access_key_id, now, signed.service, signed.region
                )
            elif session.kind is SessionKind.ROLE:
                # Temporary (ASIA) keys are not IAM access keys and get no last-used
                # date; a role session's use is its role's (RoleLastUsed).
                self._services.last_used.record_role(session.principal_id, now, signed.region)
            if request.form is not None and isinstance(codec, QueryCodec):
                operation, params = codec.parse(request.form.get())
            else:
                operation, params = codec.parse_http(
                    request.method, request.raw_query, request.headers, request.body
                )
            # The access advisor's record: a role session's use is its role's.
            self._services.last_used.record_service(
                credential.caller.account_id,
                credential.caller.role_arn or credential.caller.arn,
                signed.service,
                operation,
                now,
                signed.region,
            )
            sessions.check_operation(credential.caller, signed.service, operation)
            found_spec = self._operations.get(signed.service, operation)
            if found_spec is not None:
                known_operation = operation
            spec = found_spec or unimplemented_operation(signed.service, operation)
            # The caller's account (a role session's is its role's): one dictionary
            # look-up, the account's services are built once.
            ctx = CallContext(
                caller=credential.caller,
                services=self._services.in_account(credential.caller.account_id),
                request_id=request_id,
                region=signed.region,
                source_ip=request.client_ip,
                credential=credential,
                user_agent=header(request.headers, b"user-agent"),
                secure_transport=request.secure,
                now=now,
            )
            if not (spec.always_allowed or spec.authorized_by_handler):
                resource = spec.resource(ctx, params)
                _refuse_other_account(credential.caller, spec.action, resource)
                self._authorizer.authorize(
                    AuthorizationRequest(
                        credential=credential,
                        action=spec.action,
                        resource=resource,
                        source_ip=request.client_ip,
                        user_agent=ctx.user_agent,
                        secure_transport=request.secure,
                        region=signed.region,
                        now=now,
                        request_keys=request_condition_keys(
                            ctx,
                            spec.action,
                            params,
                            with_resource_tags=credential.policies.uses_resource_tags,
                        ),
                    )
                )
            if spec.costly:
                result = self._run_costly(spec, ctx, params)
            else:
                result = spec.handler(ctx, params)
            body = codec.serialize_result(operation, result, request_id)
            status = 200
            error_code = "-"
        except AwsError as error:
            body = codec.serialize_error(error, request_id)
            status = error.status
            error_code = error.code
            if not authenticated and self._metrics is not None:
                self._metrics.authentication_failures.inc("api", error.code)
        except Exception as exc:
            _failures.exception(exc, "request %s failed (%s)", request_id, operation)
            failure = InternalFailure()
            body = codec.serialize_error(failure, request_id)
            status = failure.status
            error_code = failure.code
        elapsed = time.perf_counter() - started
        if self._metrics is not None:
            self._metrics.requests.observe(
                codec.service_name,
                known_operation,
                "ok" if status == 200 else error_code,
                elapsed,
            )
        if self._access_log is not None:
            self._access_log.record(
                request_id,
                request.client_ip,
                operation,
                principal,
                status,
                error_code,
                elapsed * 1000,
            )
        return HttpResponse(
            status,
            [
                (b"content-type", codec.content_type),
                (b"x-amzn-requestid", request_id.encode("ascii")),
            ],
            body,
        )

    def _run_costly(self, spec: Operation, ctx: CallContext, params: Params) -> Result:
        if not self._costly_slots.acquire(blocking=False):
            raise Throttling()
        try:
            return spec.handler(ctx, params)
        finally:
            self._costly_slots.release()

    def _authenticate(self, signed: sigv4.SigV4Request, now: datetime) -> ResolvedCredential:
        if is_temporary_key(signed.access_key_id):
            # The session token is the session: it must be there, open with this key id
            # and not be expired (InvalidClientTokenId / ExpiredToken); the request must
            # be signed with the secret sealed inside it.
            session = self._services.credentials.resolve_session(
                signed.access_key_id, signed.security_token, now
            )
            sigv4.verify(signed, session.secret_access_key)
            return session
        credential = self._services.credentials.resolve(signed.access_key_id)
        if credential is None:
            raise InvalidClientTokenId()
        sigv4.verify(signed, credential.secret_access_key)
        # Long-term keys carry no session token; one sent with them is not ours.
        if credential.status is not AccessKeyStatus.ACTIVE or signed.security_token:
            raise InvalidClientTokenId()
        return credential


# The services whose resources live in one account and have no resource-based policy.
_ACCOUNT_SCOPED_SERVICES = frozenset({"iam", "sts", "codecommit"})


def _refuse_other_account(caller: Caller, action: str, resource: str) -> None:
    """AccessDenied for a resource of another account (an ARN naming its 12 digits).

    The entities iamd serves have no resource-based policies, so, as in AWS, a caller's
    own policies never reach another account's users, roles, policies or repositories:
    only a role assumed there does (its session acts in that account).
    """
    parts = resource.split(":", 5)
    # Organizations' resources name the management account in every member's requests;
    # the organization itself decides who may see them.
    if len(parts) != 6 or parts[2] not in _ACCOUNT_SCOPED_SERVICES:
        return
    if parts[4] != caller.account_id and parts[4].isdigit():
        raise AccessDenied(
            f"User: {caller.arn} is not authorized to perform: {action} on resource: "
            f"{resource} because no resource-based policy allows the {action} action"
        )
