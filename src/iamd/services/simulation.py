"""The policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysFor*.

A simulation runs the very engine enforcement runs (`compile_policy` + `evaluate`), on
the principal's stored policies and/or policies given as strings, for every pair of
action and resource asked about. Two things differ from enforcement, as in AWS:

- The request context holds only the ContextEntries the caller gave, plus the keys that
  describe a simulated IAM user (`aws:username`, `aws:userid`, `aws:PrincipalArn`...),
  which AWS fills in when the simulation is for a user. Nothing else (time, source IP,
  MFA...) is invented, so a condition on a key not given is reported in
  MissingContextValues instead of being silently decided.
- Every matched statement names its policy and that policy's type (user, group,
  aws-managed, user-managed, resource, none).

Accounts, as AWS documents ResourceOwner and CallerArn: a resource belongs to the account
its ARN names; an ARN that names none (an S3 object) belongs to ResourceOwner, or else
to the caller's account. Access within one account is allowed by the identity policies
or by the resource policy alone (one naming the caller's ARN even past the boundary);
across accounts both the resource policy and the caller's identity policies (and
boundary) must allow. SimulatePrincipalPolicy also applies the service control policies
of the simulated principal's account when an organization restricts it, and reports
OrganizationsDecisionDetail. See docs/simulator.md for what iamd does where AWS is silent.

`simulate` is pure (the `iamd policy simulate` command uses it offline);
`SimulationService` loads a principal's policies with `PolicyCompiler`, as enforcement does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from iamd.errors import InvalidInput, LimitExceeded, MalformedPolicyDocument, NoSuchEntity
from iamd.model import Role, User
from iamd.model.arn import iam_arn
from iamd.policy import (
    CompiledPolicy,
    Decision,
    PolicyKind,
    RequestContext,
    StatementRef,
    check_policy,
    compile_policy,
    context_keys_of,
    evaluate,
)
from iamd.principals.principal_policies import (
    SCP_SOURCE,
    CompiledScps,
    PolicyCompiler,
    split_source,
    typed_source,
)
from iamd.store.sql.paging import decode_marker, encode_marker, offset_in
from iamd.store.transactions import Transactions

# ContextKeyType values (the model's enum); the *List ones make the key multivalued.
CONTEXT_KEY_TYPES = frozenset(
    {
        "string",
        "stringList",
        "numeric",
        "numericList",
        "boolean",
        "booleanList",
        "ip",
        "ipList",
        "binary",
        "binaryList",
        "date",
        "dateList",
    }
)


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    source_policy_id: str
    source_policy_type: str
    ref: StatementRef


@dataclass(frozen=True, slots=True)
class Outcome:
    """The decision for one action on one resource."""

    action: str
    resource: str
    decision: Decision
    matched: tuple[MatchedStatement, ...]


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies a simulation evaluates (compiled with typed source ids)."""

    identity: tuple[CompiledPolicy, ...]
    boundary: tuple[CompiledPolicy, ...] | None = None
    resource: CompiledPolicy | None = None
    # Who the resource policy's Principal element is matched against.
    caller_arn: str | None = None
    # The caller's account (None: no caller, every resource counts as its own) and the
    # owner of resources whose ARN names no account (ResourceOwner; None: the caller's).
    caller_account: str | None = None
    resource_owner: str | None = None
    # The SCPs restricting the simulated principal's account (None: none do).
    scps: CompiledScps | None = None


def compile_input(
    document: str, kind: PolicyKind, source_type: str, source_id: str
) -> CompiledPolicy:
    """Compile a policy given as a string, refusing it as IAM would refuse to store it."""
    for problem in check_policy(document, kind):
        if problem.kind == "error":
            raise MalformedPolicyDocument(problem.message)
        raise LimitExceeded(problem.message)
    return compile_policy(document, kind, typed_source(source_type, source_id))


def input_policies(
    documents: Sequence[str], list_name: str, kind: PolicyKind
) -> list[CompiledPolicy]:
    """PolicyInputList / PermissionsBoundaryPolicyInputList, named as AWS names them
    (`PolicyInputList.1`, ...: the AWS CLI's documented simulate-custom-policy output)."""
    return [
        compile_input(doc, kind, "none", f"{list_name}.{n}") for n, doc in enumerate(documents, 1)
    ]


def context_keys(entries: Sequence[Mapping[str, object]]) -> dict[str, str | tuple[str, ...]]:
    """ContextEntries as request-context keys: *List types (and several values) make a
    multivalued key; a scalar type with one value a single-valued one."""
    keys: dict[str, str | tuple[str, ...]] = {}
    for entry in entries:
        name = str(entry.get("ContextKeyName", ""))
        key_type = str(entry.get("ContextKeyType", "string"))
        raw = entry.get("ContextKeyValues") or []
        values = tuple(str(v) for v in raw) if isinstance(raw, list | tuple) else (str(raw),)
        if not name:
            raise InvalidInput("ContextKeyName is required in each context entry.")
        if key_type not in CONTEXT_KEY_TYPES:
            raise InvalidInput(f"Invalid ContextKeyType {key_type} for context key {name}.")
        if key_type.endswith("List") or len(values) != 1:
            keys[name] = values
        else:
            keys[name] = values[0]
    return keys


def arn_account(arn: str) -> str | None:
    """The 12-digit account an ARN names, or None (`*`, S3 buckets and objects...)."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and len(parts[4]) == 12 and parts[4].isdigit():
        return parts[4]
    return None


def resource_owner(value: str) -> str:
    """ResourceOwner: an account id or the account's ARN (`arn:aws:iam::ACCOUNT:root`,
    the form AWS documents); anything else is AWS's InvalidInput."""
    if len(value) == 12 and value.isascii() and value.isdigit():
        return value
    parts = value.split(":")
    if (
        len(parts) == 6
        and parts[0] == "arn"
        and parts[2] == "iam"
        and not parts[3]
        and parts[5] == "root"
        and arn_account(value) is not None
    ):
        return parts[4]
    raise InvalidInput(f"'{value}' is not a valid as a Resource Owner.")


def caller_arn_keys(arn: str) -> dict[str, str]:
    """The principal keys of a CallerArn that names no user of this account (AWS does
    not require it to exist: it names whom a resource policy is matched against, who
    may be in another account). Only what the ARN itself says."""
    _, _, rest = arn.split(":", 5)[5].partition("/")
    return {
        "aws:username": rest.rpartition("/")[2],
        "aws:PrincipalArn": arn,
        "aws:PrincipalAccount": arn.split(":")[4],
        "aws:PrincipalType": "User",
    }


def user_keys(user: User, account_id: str) -> dict[str, str]:
    """The principal keys AWS fills in when the simulated caller is an IAM user (the
    same keys enforcement derives from a user's credential)."""
    return {
        "aws:username": user.name,
        "aws:userid": user.user_id,
        "aws:PrincipalArn": iam_arn(account_id, "user", user.path, user.name),
        "aws:PrincipalAccount": account_id,
        "aws:PrincipalType": "User",
    }


def simulate(
    policies: PolicySet,
    actions: Sequence[str],
    resources: Sequence[str],
    keys: Mapping[str, str | Sequence[str]],
    window: range | None = None,
) -> list[Outcome]:
    """Evaluate every action on every resource, in that order (actions outer).

    `window` picks positions in that order (a page): only those pairs are evaluated, so
    a page of a simulation costs its own size whatever the product of the two lists.
    """
    outcomes: list[Outcome] = []
    resource_policies = () if policies.resource is None else (policies.resource,)
    count = len(resources)
    caller_account = policies.caller_account
    for position in window if window is not None else range(len(actions) * count):
        action = actions[position // count]
        resource = resources[position % count]
        owner = arn_account(resource) or policies.resource_owner or caller_account
        decision = evaluate(
            RequestContext(action, resource, keys),
            policies.identity,
            boundary=policies.boundary,
            resource=resource_policies,
            principal_arn_for_resource_policies=policies.caller_arn,
            scps=policies.scps,
            cross_account=caller_account is not None and owner != caller_account,
        )
        matched = []
        for ref in decision.matched:
            if ref.source_id == SCP_SOURCE:
                continue  # AWS's PolicySourceType has no value for an SCP
            source_type, source_id = split_source(ref.source_id)
            matched.append(MatchedStatement(source_id, source_type, ref))
        outcomes.append(Outcome(action, resource, decision, tuple(matched)))
    return outcomes


def page(total: int, marker: str | None, max_items: int) -> tuple[range, str | None]:
    """The positions of one page of `total` results and the marker of the next (None
    when none is left)."""
    start = 0
    if marker is not None:
        decoded = decode_marker(marker) or ""
        found = offset_in(decoded.removeprefix("simulation:"))
        if not decoded.startswith("simulation:") or found is None or found > total:
            raise InvalidInput("Invalid Marker.")
        start = found
    end = min(start + max_items, total)
    next_marker = encode_marker(f"simulation:{end}") if end < total else None
    return range(start, end), next_marker


def role_keys(role: Role, account_id: str) -> dict[str, str]:
    """The principal keys of a simulated role: those a session of it has that do not
    depend on the session [I: AWS does not document what it fills in for a role]."""
    return {
        "aws:PrincipalArn": role.arn,
        "aws:PrincipalAccount": account_id,
        "aws:PrincipalType": "AssumedRole",
    }


@dataclass(frozen=True, slots=True)
class Principal:
    """A PolicySourceArn resolved: its policies and, for a user or a role, the entity."""

    identity: tuple[CompiledPolicy, ...]
    boundary: tuple[CompiledPolicy, ...] | None
    user: User | None
    role: Role | None = None


class SimulationService:
    def __init__(self, tx: Transactions, compiler: PolicyCompiler) -> None:
        self._tx = tx
        self._compiler = compiler

    @property
    def account_id(self) -> str:
        return self._tx.account_id

    def principal(self, arn: str) -> Principal:
        """The stored policies of the user, group or role `arn` names (NoSuchEntity
        otherwise); a user's include its groups', a role's are its own and its boundary."""
        kind, name, path = self._split_entity_arn(arn)
        with self._tx.read() as repos:
            if kind == "user":
                user = repos.users.get_by_name(name)
                if user is None or user.path != path or user.name != name:
                    raise NoSuchEntity.user(name)
                loaded = self._compiler.for_user(repos, user)
                return Principal(loaded.identity, loaded.boundary, user)
            if kind == "group":
                group = repos.groups.get_by_name(name)
                if group is None or group.path != path or group.name != name:
                    raise NoSuchEntity.group(name)
                return Principal(tuple(self._compiler.for_group(repos, group.group_id)), None, None)
            role = repos.roles.get_by_name(name)
            if role is None or role.path != path or role.name != name:
                raise NoSuchEntity.named("role", name)
            loaded = self._compiler.for_role(repos, role)
            return Principal(loaded.identity, loaded.boundary, None, role)

    def caller_keys(self, arn: str) -> dict[str, str]:
        """CallerArn's principal keys. AWS accepts only an IAM user's ARN and documents
        no need for the user to exist (the caller may be of another account): a user
        of this account that exists brings its stored keys (`aws:userid`...), any other
        user ARN what the ARN says."""
        parts = arn.split(":", 5)
        if (
            len(parts) != 6
            or parts[0] != "arn"
            or parts[2] != "iam"
            or parts[3]
            or arn_account(arn) is None
            or not parts[5].startswith("user/")
            or parts[5].endswith("/")
        ):
            raise InvalidInput(f"CallerArn {arn} must be the ARN of an IAM user.")
        if parts[4] == self._tx.account_id:
            _, name, path = self._split_entity_arn(arn)
            with self._tx.read() as repos:
                user = repos.users.get_by_name(name)
            if user is not None and user.path == path and user.name == name:
                return user_keys(user, self._tx.account_id)
        return caller_arn_keys(arn)

    def scps(self) -> CompiledScps | None:
        """The SCPs restricting this account (None when none do)."""
        return self._compiler.scps_for(self._tx.account_id)

    def _split_entity_arn(self, arn: str) -> tuple[str, str, str]:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or "/" not in parts[5]:
            raise InvalidInput(f"Invalid ARN {arn}: must be the ARN of a user, group or role.")
        kind, _, rest = parts[5].partition("/")
        path, _, name = ("/" + rest).rpartition("/")
        if kind not in ("user", "group", "role") or not name:
            raise InvalidInput(f"Invalid ARN {arn}: must be the ARN of a user, group or role.")
        if parts[4] != self._tx.account_id:
            raise NoSuchEntity.named(kind, name)
        return kind, name, path + "/"


def keys_of(policies: Sequence[CompiledPolicy]) -> list[str]:
    """ContextKeyNames for GetContextKeysFor*Policy."""
    return list(context_keys_of(policies))
