"""The operation table: handler, IAM action and resource of every served operation.

Authorization needs, for each operation, the action (`iam:CreateAccessKey`) and the
resource ARN AWS authorizes it against (for CreateAccessKey, the target user's ARN,
the caller's own when UserName is omitted). Keeping both in the same entry as the
handler means an operation cannot be served without them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from iamd.errors import NotImplementedOperation
from iamd.principals.caller import Caller
from iamd.principals.credentials import ResolvedCredential
from iamd.services.container import Services

Params = Mapping[str, Any]
Result = dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a handler knows about the request beyond its parameters."""

    caller: Caller
    services: Services
    request_id: str
    region: str
    source_ip: str
    # What an operation that authorizes further actions itself (sts:AssumeRole checks
    # the role's trust policy) needs to build the request context.
    credential: ResolvedCredential | None = None
    user_agent: str = ""
    secure_transport: bool = False
    now: datetime | None = None
    # Writes this node's queued audit events (LookupEvents calls it first, so that a
    # caller reads its own requests' completed records rather than a write's provisional
    # one: services/trail.py, TrailRecorder.finish).
    flush_trail: Callable[[], object] | None = None


@dataclass(slots=True)
class VerifiedIdentity:
    """Who an unsigned request proved to be, once its handler verified the token or
    assertion: the audit trail's `userIdentity` (WebIdentityUser, SAMLUser), the user
    name it is looked up by, and the account the request acted in."""

    user_identity: dict[str, Any] | None = None
    username: str | None = None
    account_id: str | None = None

    def federated(
        self, kind: str, principal_id: str, user_name: str, provider: str, account_id: str
    ) -> None:
        """A federated identity (`kind` WebIdentityUser or SAMLUser), as CloudTrail
        records it whatever the request's outcome."""
        self.user_identity = {
            "type": kind,
            "principalId": principal_id,
            "userName": user_name,
            "identityProvider": provider,
        }
        self.username = user_name
        self.account_id = account_id


@dataclass(frozen=True, slots=True)
class AnonymousContext:
    """What the handler of an operation AWS serves unsigned knows: no caller.

    AssumeRoleWithWebIdentity and AssumeRoleWithSAML are authenticated by the token or
    assertion they carry, and authorized by the named role's trust policy alone, so
    their handlers are written against this and can never reach for a caller.
    """

    # An account's services (the instance's default one for an unsigned request): the
    # handler takes the named role's account from them with `in_account`.
    services: Services
    request_id: str
    region: str
    source_ip: str
    now: datetime
    user_agent: str = ""
    secure_transport: bool = False
    # Filled in by the handler once the token checks out (never before: a request that
    # fails verification is recorded with no identity).
    verified: VerifiedIdentity = field(default_factory=VerifiedIdentity)


#: The IAM action prefix of a service whose model is named otherwise.
ACTION_PREFIXES = {"sso-admin": "sso"}

Handler = Callable[[CallContext, Params], Result]
AnonymousHandler = Callable[[AnonymousContext, Params], Result]
ResourceOf = Callable[[CallContext, Params], str]


@dataclass(frozen=True, slots=True)
class Operation:
    service: str
    name: str
    handler: Handler
    resource: ResourceOf
    # GetCallerIdentity and GetSessionToken cannot be denied by any policy in AWS.
    always_allowed: bool = False
    # The handler authorizes the request itself (AssumeRole: the role's trust policy and
    # the caller's policies together); the pipeline's generic step is skipped.
    authorized_by_handler: bool = False
    # Costs far more than a look-up (policy simulation, whole-account reports): at most
    # a few run at once, so they can never take every worker thread.
    costly: bool = False
    # Served to a request that carries no signature at all (botocore's model marks the
    # operation `smithy.api#noAuth`); a signed request reaches it too, through `handler`.
    anonymous: AnonymousHandler | None = None
    # Further resources the action is authorized on, each of which must be allowed
    # (AttachPolicy: the policy, then the target it is attached to).
    also_on: tuple[ResourceOf, ...] = ()

    @property
    def action(self) -> str:
        return f"{ACTION_PREFIXES.get(self.service, self.service)}:{self.name}"


class OperationTable:
    def __init__(self, operations: Iterable[Operation]) -> None:
        self._by_key: dict[tuple[str, str], Operation] = {}
        for op in operations:
            key = (op.service, op.name)
            if key in self._by_key:
                raise ValueError(f"operation {op.action} registered twice")
            self._by_key[key] = op

    def get(self, service: str, name: str) -> Operation | None:
        return self._by_key.get((service, name))

    def served_unsigned(self, name: str) -> Operation | None:
        """The operation called `name` that answers a request with no signature."""
        for service in UNSIGNED_SERVICES:
            found = self._by_key.get((service, name))
            if found is not None and found.anonymous is not None:
                return found
        return None

    def names(self, service: str) -> frozenset[str]:
        return frozenset(name for svc, name in self._by_key if svc == service)

    def __iter__(self) -> Any:
        return iter(self._by_key.values())


#: The Query services whose unsigned requests can name an operation (STS's
#: AssumeRoleWithWebIdentity and AssumeRoleWithSAML).
UNSIGNED_SERVICES = ("sts",)


def unsigned_operation(service: str, name: str, handler: AnonymousHandler) -> Operation:
    """An operation AWS serves with no signature: signed or not, the handler sees no caller
    (a signed request is still authenticated first, and its signer is not consulted)."""

    def signed(ctx: CallContext, params: Params) -> Result:
        return handler(
            AnonymousContext(
                services=ctx.services,
                request_id=ctx.request_id,
                region=ctx.region,
                source_ip=ctx.source_ip,
                now=ctx.now or ctx.services.clock.now(),
                user_agent=ctx.user_agent,
                secure_transport=ctx.secure_transport,
            ),
            params,
        )

    return Operation(
        service, name, signed, any_resource, authorized_by_handler=True, anonymous=handler
    )


# -- resources ---------------------------------------------------------------------------


def any_resource(_ctx: CallContext, _params: Params) -> str:
    return "*"


def user_resource(ctx: CallContext, params: Params) -> str:
    """The named user's ARN, or the caller's own when UserName is omitted."""
    name = params.get("UserName")
    if name is None:
        return ctx.caller.arn
    if ctx.caller.user is not None and name.lower() == ctx.caller.user.name.lower():
        return ctx.caller.arn
    return ctx.services.paths.user_arn(name)


def group_resource(ctx: CallContext, params: Params) -> str:
    return ctx.services.paths.group_arn(params["GroupName"])


def role_resource(ctx: CallContext, params: Params) -> str:
    return ctx.services.paths.role_arn(params["RoleName"])


def policy_resource(_ctx: CallContext, params: Params) -> str:
    return str(params["PolicyArn"])


def new_entity_resource(kind: str, name_param: str) -> ResourceOf:
    """The ARN an entity about to be created will have (CreateUser, CreatePolicy...)."""

    def resource(ctx: CallContext, params: Params) -> str:
        path = params.get("Path", "/")
        return f"arn:aws:iam::{ctx.caller.account_id}:{kind}{path}{params[name_param]}"

    return resource


def guessed_resource(ctx: CallContext, params: Params) -> str:
    """The resource of an operation iamd does not serve, from the parameters it names."""
    if "UserName" in params:
        return user_resource(ctx, params)
    if "GroupName" in params:
        return group_resource(ctx, params)
    if "RoleName" in params:
        return role_resource(ctx, params)
    if "PolicyArn" in params:
        return policy_resource(ctx, params)
    return "*"


def unimplemented_operation(service: str, name: str) -> Operation:
    """An entry for a modelled operation iamd does not serve.

    It is authorized like any other before it answers NotImplemented, so a caller who
    may not perform the action learns only that (AccessDenied), as from AWS.
    """

    def handler(_ctx: CallContext, _params: Params) -> Result:
        raise NotImplementedOperation.for_operation(service, name)

    return Operation(service, name, handler, guessed_resource)
