"""The one path every AWS API request takes, from bytes to bytes.

authenticate (SigV4) -> parse (service model) -> authorize (action, resource, context)
-> operation -> serialize. Runs on a worker thread (cheap reads run on the event loop
with SQLite; costly operations run a few at a time, Throttling beyond); every failure
becomes an AWS error envelope, and anything unexpected is logged once with its request
id and answered as InternalFailure, never with a traceback or a secret.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iamd.auth import sigv4
from iamd.auth.session_tokens import SessionKind
from iamd.authz import AuthorizationRequest, Authorizer, sessions
from iamd.errors import (
    AccessDenied,
    AwsError,
    InternalFailure,
    InvalidClientTokenId,
    MissingAuthenticationToken,
    SignatureDoesNotMatch,
    Throttling,
)
from iamd.http.failure_log import FailureLog
from iamd.model import AccessKeyStatus
from iamd.model.arn import arn_account
from iamd.operations.context_keys import request_condition_keys
from iamd.operations.registry import (
    AnonymousContext,
    CallContext,
    Operation,
    OperationTable,
    Params,
    Result,
    VerifiedIdentity,
    unimplemented_operation,
)
from iamd.operations.sts.authorization_messages import ENCODE_HEADER, ENCODE_VALUE
from iamd.principals.credentials import ResolvedCredential, is_temporary_key
from iamd.protocol import JsonCodec, QueryCodec
from iamd.protocol.form import DecodedForm, decode_query_form, header
from iamd.protocol.trail_redaction import request_parameters, response_elements
from iamd.services.container import Services
from iamd.services.trail import (
    EVENT_SOURCES,
    PendingWrite,
    RequestEvent,
    TrailRecorder,
    is_read_only,
    resources_named,
    user_identity,
)
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
    # (TLS version, cipher suite) of the connection, when it is TLS.
    tls: tuple[str, str] | None = None
    # The Query parameters, when the front already decoded them to decide where the
    # request runs (never decoded twice).
    form: DecodedForm | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(slots=True)
class _Call:
    """What an authenticated call has got so far, for the trail and the metrics."""

    # Metric labels: only the operation table's names, so no request adds a series.
    known_operation: str = UNKNOWN
    resource: str | None = None
    pending: PendingWrite | None = None


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
        trail: TrailRecorder | None = None,
        region: str = "us-east-1",
    ) -> None:
        self._services = services
        # An unsigned request names no region: the server's own.
        self._region = region
        self._trail = trail
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
        authenticated = False
        now = None
        signed = None
        credential: ResolvedCredential | None = None
        params: Params | None = None
        result: Result = None
        call = _Call()
        failure: AwsError | None = None
        verified: VerifiedIdentity | None = None
        try:
            now = self._services.clock.now()
            anonymous: Operation | None = None
            # The service namespace of the signature (sso-admin signs as "sso").
            signing_name = ""
            try:
                signed = sigv4.parse_request(
                    request.method,
                    request.raw_path.decode("latin-1"),
                    request.raw_query,
                    request.headers,
                    request.body,
                    now,
                    presigned_max_age=self._presigned_max_age,
                )
            except MissingAuthenticationToken:
                # A request with no signature at all reaches only an operation AWS
                # serves unsigned (AssumeRoleWithWebIdentity, AssumeRoleWithSAML). The
                # front decodes Query forms only where it decides what runs inline
                # (SQLite): decoded here otherwise, once, and parsed from that below.
                if request.form is None and not header(request.headers, b"x-amz-target"):
                    request = dataclasses.replace(
                        request,
                        form=decode_query_form(
                            request.method, request.raw_query, request.headers, request.body
                        ),
                    )
                anonymous = self._operations.served_unsigned(_operation_named(request))
                if anonymous is None:
                    raise
            if signed is None:
                assert anonymous is not None
                codec = self._codecs[anonymous.service]
                region = self._region
            else:
                found = self._codecs.get(signed.service)
                if found is None:
                    raise SignatureDoesNotMatch(
                        f"Credential should be scoped to correct service: '{codec.service_name}'. "
                    )
                codec = found
                region = signed.region
                signing_name = signed.service
                credential = self._authenticate(signed, now)
                authenticated = True
                principal = credential.caller.arn
                sessions.check_service(credential.caller, signed.service)
                session = credential.session
                if session is None:
                    self._services.last_used.record(
                        credential.access_key_id, now, signed.service, region
                    )
                elif session.kind is SessionKind.ROLE:
                    # Temporary (ASIA) keys are not IAM access keys and get no last-used
                    # date; a role session's use is its role's (RoleLastUsed).
                    self._services.last_used.record_role(session.principal_id, now, region)
            if request.form is not None and isinstance(codec, QueryCodec):
                operation, params = codec.parse(request.form.get())
            else:
                operation, params = codec.parse_http(
                    request.method, request.raw_query, request.headers, request.body
                )
            if credential is None:
                anonymous_ctx = AnonymousContext(
                    services=self._services,
                    request_id=request_id,
                    region=region,
                    source_ip=request.client_ip,
                    now=now,
                    user_agent=header(request.headers, b"user-agent"),
                    secure_transport=request.secure,
                )
                verified = anonymous_ctx.verified
                result = self._call_anonymous(anonymous, operation, params, anonymous_ctx)
                call.known_operation = operation
            else:
                result = self._run_authenticated(
                    request,
                    request_id,
                    now,
                    region,
                    signing_name,
                    codec,
                    operation,
                    params,
                    credential,
                    call,
                )
            body = codec.serialize_result(operation, result, request_id)
            status = 200
            error_code = "-"
        except AwsError as error:
            if isinstance(error, AccessDenied) and credential is not None:
                error = self._encoded(request, credential, error)
            failure = error
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
        if self._trail is not None:
            self._finish_trail(
                request,
                request_id,
                now,
                signed,
                codec,
                operation,
                credential,
                params,
                call.resource,
                call.pending,
                result,
                failure,
                verified,
            )
        elapsed = time.perf_counter() - started
        if self._metrics is not None:
            self._metrics.requests.observe(
                codec.service_name,
                call.known_operation,
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

    def run_as(
        self,
        request: HttpRequest,
        credential: ResolvedCredential,
        form: Mapping[str, str],
        service: str = "iam",
    ) -> Result:
        """Run the operation `form` names (Query parameters, `Action` among them) of a
        Query service (iam, sts) as the already authenticated `credential`: a web
        page's action (http/console).

        The same parsing, authorization, operation, audit record, metrics and access log
        as a signed request; the outcome is the operation's result, or the AwsError it
        ended with (InternalFailure for anything unexpected, logged once).
        """
        codec = self._codecs[service]
        assert isinstance(codec, QueryCodec)
        return self._run_as(
            request, credential, codec, form.get("Action") or "-", codec.parse, form
        )

    def run_json_as(
        self,
        request: HttpRequest,
        credential: ResolvedCredential,
        service: str,
        operation: str,
        body: Mapping[str, Any],
    ) -> Result:
        """`run_as` for a JSON-protocol service (cloudtrail, codecommit...): `body` is
        the operation's JSON request."""
        codec = self._codecs[service]
        assert isinstance(codec, JsonCodec)
        target = f"{codec.target_prefix}.{operation}"
        encoded = json.dumps(body).encode("utf-8")
        return self._run_as(
            request, credential, codec, operation, lambda _: codec.parse(target, encoded), {}
        )

    def authorize_as(
        self, request: HttpRequest, credential: ResolvedCredential, action: str, resource: str
    ) -> None:
        """Authorize `credential` for `action` on `resource` with the policy engine, as
        for an operation of that action: for a web page's action that is no API
        operation (ending a user's console sessions). AccessDenied when refused."""
        self._authorizer.authorize(
            AuthorizationRequest(
                credential=credential,
                action=action,
                resource=resource,
                source_ip=request.client_ip,
                user_agent=header(request.headers, b"user-agent"),
                secure_transport=request.secure,
                region=self._region,
                now=self._services.clock.now(),
                request_keys={},
            )
        )

    def _run_as(
        self,
        request: HttpRequest,
        credential: ResolvedCredential,
        codec: Codec,
        operation: str,
        parse: Callable[[Mapping[str, str]], tuple[str, Params]],
        form: Mapping[str, str],
    ) -> Result:
        started = time.perf_counter()
        request_id = self._services.ids.request_id()
        now = self._services.clock.now()
        call = _Call()
        params: Params | None = None
        result: Result = None
        failure: AwsError | None = None
        try:
            operation, params = parse(form)
            result = self._run_authenticated(
                request,
                request_id,
                now,
                self._region,
                codec.service_name,
                codec,
                operation,
                params,
                credential,
                call,
            )
        except AwsError as error:
            failure = error
        except Exception as exc:
            _failures.exception(exc, "request %s failed (%s)", request_id, operation)
            failure = InternalFailure()
        if self._trail is not None:
            self._finish_trail(
                request,
                request_id,
                now,
                None,
                codec,
                operation,
                credential,
                params,
                call.resource,
                call.pending,
                result,
                failure,
                None,
            )
        elapsed = time.perf_counter() - started
        error_code = "-" if failure is None else failure.code
        if self._metrics is not None:
            self._metrics.requests.observe(
                codec.service_name,
                call.known_operation,
                "ok" if failure is None else error_code,
                elapsed,
            )
        if self._access_log is not None:
            self._access_log.record(
                request_id,
                request.client_ip,
                operation,
                credential.caller.arn,
                200 if failure is None else failure.status,
                error_code,
                elapsed * 1000,
            )
        if failure is not None:
            raise failure
        return result

    def _run_authenticated(
        self,
        request: HttpRequest,
        request_id: str,
        now: datetime,
        region: str,
        signing_name: str,
        codec: Codec,
        operation: str,
        params: Params,
        credential: ResolvedCredential,
        call: _Call,
    ) -> Result:
        """An authenticated caller's operation: authorized, begun in the trail, run.

        `call` gets the resource authorized against and the trail's pending write as
        soon as they exist, so that the caller finishes the record however this ends.
        """
        # The access advisor's record: a role session's use is its role's.
        self._services.last_used.record_service(
            credential.caller.account_id,
            credential.caller.role_arn or credential.caller.arn,
            signing_name,
            operation,
            now,
            region,
        )
        service = codec.service_name
        sessions.check_operation(credential.caller, service, operation)
        found_spec = self._operations.get(service, operation)
        if found_spec is not None:
            call.known_operation = operation
        spec = found_spec or unimplemented_operation(service, operation)
        # The caller's account (a role session's is its role's): one dictionary
        # look-up, the account's services are built once.
        ctx = CallContext(
            caller=credential.caller,
            services=self._services.in_account(credential.caller.account_id),
            request_id=request_id,
            region=region,
            source_ip=request.client_ip,
            credential=credential,
            user_agent=header(request.headers, b"user-agent"),
            secure_transport=request.secure,
            now=now,
            flush_trail=self._trail.flush if self._trail is not None else None,
        )
        if not (spec.always_allowed or spec.authorized_by_handler):
            call.resource = spec.resource(ctx, params)
            authorization = AuthorizationRequest(
                credential=credential,
                action=spec.action,
                resource=call.resource,
                source_ip=request.client_ip,
                user_agent=ctx.user_agent,
                secure_transport=request.secure,
                region=region,
                now=now,
                request_keys=request_condition_keys(
                    ctx,
                    spec.action,
                    params,
                    with_resource_tags=credential.policies.uses_resource_tags,
                ),
            )
            self._authorizer.authorize(authorization)
            for further in spec.also_on:
                self._authorizer.authorize(
                    dataclasses.replace(authorization, resource=further(ctx, params))
                )
        if self._trail is not None:
            call.pending = self._trail.begin(
                self._event(
                    request,
                    request_id,
                    now,
                    region,
                    codec,
                    operation,
                    credential,
                    params,
                    call.resource,
                )
            )
        try:
            if spec.costly:
                return self._run_costly(spec, ctx, params)
            return spec.handler(ctx, params)
        finally:
            if call.pending is not None:
                TrailRecorder.release(call.pending)

    def _encoded(
        self, request: HttpRequest, credential: ResolvedCredential, error: AccessDenied
    ) -> AccessDenied:
        """The refusal with its sealed explanation appended, when the caller asked for
        it (docs/federation.md); unchanged otherwise."""
        if error.explain is None:
            return error
        asked = header(request.headers, ENCODE_HEADER)
        if asked.strip().lower() != ENCODE_VALUE:
            return error
        account = credential.caller.account_id
        encoded = self._services.in_account(account).sts.encode_authorization_message(
            error.explain()
        )
        if encoded is None:
            return error
        return AccessDenied(f"{error.message} Encoded authorization failure message: {encoded}")

    def _event(
        self,
        request: HttpRequest,
        request_id: str,
        now: datetime,
        region: str,
        codec: Codec,
        operation: str,
        credential: ResolvedCredential | None,
        params: Params | None,
        resource: str | None,
        access_key_id: str | None = None,
    ) -> RequestEvent:
        """The request's audit event; requestParameters/responseElements are built
        lazily (by the trail's writer thread for most requests)."""
        service = codec.service_name
        identity: dict[str, Any] | None = None
        caller = None
        if credential is not None:
            caller = credential.caller  # its identity is derived on the writer thread
            account_id = caller.account_id
            access_key_id = caller.access_key_id
        else:
            account_id = self._services.account_id
            if access_key_id:
                identity = {"type": "Unknown", "accessKeyId": access_key_id}
        host = header(request.headers, b"host") if request.secure else None
        return RequestEvent(
            account_id=account_id,
            event_time=now,
            event_source=EVENT_SOURCES.get(service, f"{service}.amazonaws.com"),
            event_name=operation,
            # IAM and the global STS endpoint log us-east-1, as CloudTrail does.
            region="us-east-1" if service in ("iam", "organizations") else region,
            source_ip=request.client_ip,
            user_agent=header(request.headers, b"user-agent"),
            request_id=request_id,
            identity=identity,
            username=None,
            access_key_id=access_key_id,
            read_only=is_read_only(operation),
            caller=caller,
            redaction=_REDACTION,
            service=service,
            params=params,
            resource_arn=resource,
            tls_host=host if host else ("" if request.secure else None),
            tls=request.tls,
            api_version=codec.api_version if isinstance(codec, QueryCodec) else None,
            from_console=caller is not None
            and caller.session is not None
            and caller.session.kind is SessionKind.CONSOLE,
        )

    def _finish_trail(
        self,
        request: HttpRequest,
        request_id: str,
        now: datetime | None,
        signed: sigv4.SigV4Request | None,
        codec: Codec,
        operation: str,
        credential: ResolvedCredential | None,
        params: Params | None,
        resource: str | None,
        pending: PendingWrite | None,
        result: Result,
        failure: AwsError | None,
        verified: VerifiedIdentity | None,
    ) -> None:
        assert self._trail is not None
        if pending is None:
            if now is None:
                return
            if operation == "-":
                operation = _operation_named(request)
            key_id = signed.access_key_id if signed is not None else None
            event = self._event(
                request,
                request_id,
                now,
                signed.region if signed else self._region,
                codec,
                operation,
                credential,
                params,
                resource,
                access_key_id=key_id if key_id and _KEY_ID.fullmatch(key_id) else None,
            )
            if verified is not None and verified.user_identity is not None:
                event.identity = verified.user_identity
                event.username = verified.username
                event.account_id = verified.account_id or event.account_id
        else:
            event = pending.event
        if failure is not None:
            event.error_code = failure.code
            event.error_message = failure.message
        elif result and event.keeps_response():
            event.result = result
        if pending is None:
            self._trail.record(event)
        else:
            self._trail.finish(pending)
        role_account = _other_account_of_role(codec, operation, params, credential)
        if role_account is not None and credential is not None:
            # As CloudTrail does, the role's account logs the call too, its caller
            # appearing there as AWSAccount.
            self._trail.record(
                dataclasses.replace(
                    event,
                    account_id=role_account,
                    identity=user_identity(credential.caller, role_account),
                    caller=None,
                    username=None,
                    access_key_id=None,
                    event_id="",
                    lookup_resources=resources_named(params),
                )
            )

    def _call_anonymous(
        self,
        anonymous: Operation | None,
        operation: str,
        params: Params,
        ctx: AnonymousContext,
    ) -> Result:
        """An unsigned request's operation: only the one its form named, and only one
        AWS serves unsigned; its handler authenticates the token it carries."""
        if anonymous is None or anonymous.anonymous is None or operation != anonymous.name:
            raise MissingAuthenticationToken()
        return anonymous.anonymous(ctx, params)

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


def _other_account_of_role(
    codec: Codec, operation: str, params: Params | None, credential: ResolvedCredential | None
) -> str | None:
    """The account of the role an AssumeRole call names, when not the caller's."""
    if codec.service_name != "sts" or not operation.startswith("AssumeRole") or not params:
        return None
    role_arn = params.get("RoleArn")
    if not isinstance(role_arn, str) or credential is None:
        return None
    account = arn_account(role_arn)
    return account if account != credential.caller.account_id else None


class _WireRedaction:
    """services/trail's Redaction: what the wire layer lets into a record."""

    def request(self, service: str, operation: str, params: Any) -> Any:
        return request_parameters(service, operation, params)

    def response(self, service: str, operation: str, result: Any) -> Any:
        return response_elements(service, operation, result)


_REDACTION = _WireRedaction()


# An access key id as a client sends it: recorded for a request that failed
# authentication only when it has this shape, so a secret pasted there is never stored.
_KEY_ID = re.compile(r"A[KS]IA[A-Z0-9]{12,124}")
_OPERATION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")


def _operation_named(request: HttpRequest) -> str:
    """The operation a request that failed before parsing asked for, if it says so."""
    name = ""
    if request.form is not None:
        if request.form.error is None:
            found = request.form.get().get("Action")
            name = found if isinstance(found, str) else ""
    else:
        target = header(request.headers, b"x-amz-target") or ""
        name = target.rsplit(".", 1)[-1]
    return name if _OPERATION_NAME.fullmatch(name) else "Unknown"
