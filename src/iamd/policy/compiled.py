"""Compiled policies: the form evaluation runs on, prepared once per policy version.

Compilation does the per-policy work up front so evaluation does none of it: action
patterns are lower-cased and split into a literal set (one hash lookup) and wildcard globs;
resource patterns into literals, `*`, ARN globs and variable templates; principals into
sets; conditions into closures (see `conditions`).

Fail closed: `compile_policy` never raises. A document that does not parse or validate
for its kind (for instance a stored policy that an older release accepted) compiles to a
policy with a single synthetic Deny statement that matches every action, resource and
principal, so any request it takes part in yields EXPLICIT_DENY. `CompiledPolicy.problems`
says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from iamd.policy.conditions import ConditionTest, build_condition
from iamd.policy.context import RequestContext
from iamd.policy.document import ParsedPolicy, ParsedStatement, PolicyKind, Problem, analyse
from iamd.policy.jsonscan import Position
from iamd.policy.matching import ArnGlob, Glob, Part, split_parts
from iamd.policy.variables import Template, TemplateItem, Variable, parse_template


@dataclass(frozen=True)
class StatementRef:
    source_id: str
    sid: str | None
    index: int
    start: Position
    end: Position


@dataclass(frozen=True)
class PrincipalInfo:
    """Who is asking. `kind` is the Principal element type the caller is matched under:
    "AWS" (arn = IAM/STS ARN), "Service" (arn = service name, e.g. ec2.amazonaws.com) or
    "Federated" (arn = identity provider ARN or name, e.g. accounts.google.com)."""

    arn: str
    account: str
    unique_id: str | None = None
    kind: str = "AWS"


class ActionMatcher:
    __slots__ = ("any", "globs", "literals", "services")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        lowered = [p.lower() for p in patterns]
        self.any = "*" in lowered
        # Service prefixes named (they cannot hold wildcards); None: could be any.
        vendors = {p.partition(":")[0] for p in lowered}
        self.services: frozenset[str] | None = (
            None if self.any or any("*" in v or "?" in v for v in vendors) else frozenset(vendors)
        )
        self.literals = frozenset(p for p in lowered if "*" not in p and "?" not in p)
        self.globs = tuple(Glob.of(p) for p in lowered if "*" in p or "?" in p)

    def matches(self, action_lower: str) -> bool:
        if self.any or action_lower in self.literals:
            return True
        for glob in self.globs:  # noqa: SIM110 (hot path: a loop beats any() here)
            if glob.matches(action_lower):
                return True
        return False


class _DynamicArn:
    """A resource pattern with variables. When the variables sit in the resource part
    (after the fifth colon, the only place AWS allows them) the first five segments are
    compiled once and only the resource part is resolved per request."""

    __slots__ = ("_head", "_tail", "_template")

    def __init__(self, template: Template) -> None:
        self._template = template
        self._head: tuple[Glob, ...] | None = None
        self._tail: tuple[TemplateItem, ...] = ()
        prefix: list[Part] = []
        colons = 0
        for position, item in enumerate(template.items):
            if isinstance(item, Variable):
                return
            text, wild = item
            if colons + text.count(":") >= 5:
                cut = _nth_colon(text, 5 - colons)
                prefix.append((text[:cut], wild))
                rest = text[cut + 1 :]
                self._tail = (((rest, wild),) if rest else ()) + template.items[position + 1 :]
                segments = split_parts(prefix, ":", 5)
                if len(segments) == 5:
                    self._head = tuple(Glob(seg) for seg in segments)
                return
            colons += text.count(":")
            prefix.append(item)

    def matches(self, ctx: RequestContext, value: str) -> bool:
        head = self._head
        if head is None:
            parts = self._template.resolve(ctx.variable)
            return parts is not None and _resolved_matches(parts, value)
        values = value.split(":", 5)
        if len(values) != 6:
            return False
        for i in range(5):
            if not head[i].matches(values[i]):
                return False
        tail: list[Part] = []
        live = False
        for item in self._tail:
            if isinstance(item, Variable):
                resolved = ctx.variable(item.key_lower)
                if resolved is None:
                    resolved = item.default
                if resolved is None:
                    return False
                tail.append((resolved, False))
            else:
                tail.append(item)
                live = live or (item[1] and ("*" in item[0] or "?" in item[0]))
        if not live:
            return "".join(text for text, _ in tail) == values[5]
        return Glob(tail).matches(values[5])


def _resolved_matches(parts: tuple[Part, ...], value: str) -> bool:
    if not any(wild and ("*" in text or "?" in text) for text, wild in parts):
        return "".join(text for text, _ in parts) == value
    return ArnGlob(parts).matches(value)


def _nth_colon(text: str, n: int) -> int:
    index = -1
    for _ in range(n):
        index = text.index(":", index + 1)
    return index


class ResourceMatcher:
    __slots__ = ("any", "dynamic", "globs", "literals")

    def __init__(self, patterns: tuple[str, ...], variables: bool) -> None:
        self.any = "*" in patterns
        literals: set[str] = set()
        globs: list[ArnGlob] = []
        dynamic: list[_DynamicArn] = []
        for pattern in patterns:
            template = parse_template(pattern, enabled=variables)
            if template.has_variables:
                dynamic.append(_DynamicArn(template))
            elif "*" in pattern or "?" in pattern or template.items != ((pattern, True),):
                globs.append(ArnGlob(template.literal_parts()))
            else:
                literals.add(pattern)
        self.literals = frozenset(literals)
        self.globs = tuple(globs)
        self.dynamic = tuple(dynamic)

    def matches(self, ctx: RequestContext) -> bool:
        resource = ctx.resource
        if self.any or resource in self.literals:
            return True
        for glob in self.globs:
            if glob.matches(resource):
                return True
        for dynamic in self.dynamic:  # noqa: SIM110 (hot path)
            if dynamic.matches(ctx, resource):
                return True
        return False


class PrincipalMatcher:
    """Principal / NotPrincipal values. An account id or `arn:...:root` means the whole
    account; a role ARN also covers that role's sessions (`arn:aws:sts::A:assumed-role/R/S`)."""

    __slots__ = ("any", "aws_accounts", "aws_arns", "others", "role_sessions")

    def __init__(self, principals: tuple[tuple[str, str], ...]) -> None:
        self.any = False
        accounts: set[str] = set()
        arns: set[str] = set()
        sessions: set[tuple[str, str]] = set()
        others: set[tuple[str, str]] = set()
        for kind, value in principals:
            if kind == "AWS":
                if value == "*":
                    self.any = True
                elif value.isdigit():
                    accounts.add(value)
                elif value.startswith("arn:") and value.endswith(":root"):
                    accounts.add(value.split(":")[4])
                else:
                    arns.add(value)
                    parts = value.split(":", 5)
                    if len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("role/"):
                        sessions.add((parts[4], parts[5].rsplit("/", 1)[-1]))
            else:
                others.add((kind, value))
        self.aws_accounts = frozenset(accounts)
        self.aws_arns = frozenset(arns)
        self.role_sessions = frozenset(sessions)
        self.others = frozenset(others)

    def matches(self, principal: PrincipalInfo | None) -> bool:
        if self.any:
            return True
        if principal is None:
            return False
        if principal.kind != "AWS":
            return (principal.kind, principal.arn) in self.others
        if principal.arn in self.aws_arns or principal.account in self.aws_accounts:
            return True
        if principal.unique_id is not None and principal.unique_id in self.aws_arns:
            return True
        parts = principal.arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
            role = parts[5].split("/")
            return len(role) >= 2 and (parts[4], role[1]) in self.role_sessions
        return False

    def names_directly(self, principal: PrincipalInfo | None) -> bool:
        """True when the exact principal (not its account or role) is listed."""
        if principal is None:
            return False
        return principal.arn in self.aws_arns or (
            principal.unique_id is not None and principal.unique_id in self.aws_arns
        )


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    operator: str
    key: str
    test: ConditionTest


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    ref: StatementRef
    deny: bool
    actions: ActionMatcher
    not_action: bool
    resources: ResourceMatcher | None  # None: no Resource element (trust policy)
    not_resource: bool
    principals: PrincipalMatcher | None
    not_principal: bool
    conditions: tuple[CompiledCondition, ...]
    condition_keys: tuple[str, ...]  # as written (deduplicated ignoring case)
    variable_keys: tuple[str, ...]  # as written


@dataclass(frozen=True)
class CompiledPolicy:
    source_id: str
    kind: PolicyKind
    statements: tuple[CompiledStatement, ...]
    valid: bool
    problems: tuple[Problem, ...]
    # Statements that can apply to an action of a given (lower-case) service prefix, in
    # order; `any_service` for a prefix no statement names (only `*` / NotAction ones).
    by_service: Mapping[str, tuple[CompiledStatement, ...]] = field(init=False, repr=False)
    any_service: tuple[CompiledStatement, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        services: set[str] = set()
        wide: list[CompiledStatement] = []
        for stmt in self.statements:
            named = stmt.actions.services
            if stmt.not_action or named is None:
                wide.append(stmt)
            else:
                services |= named
        index = {
            service: tuple(
                stmt
                for stmt in self.statements
                if stmt.not_action
                or stmt.actions.services is None
                or service in stmt.actions.services
            )
            for service in services
        }
        object.__setattr__(self, "by_service", MappingProxyType(index))
        object.__setattr__(self, "any_service", tuple(wide))


def _compile_statement(source_id: str, stmt: ParsedStatement, variables: bool) -> CompiledStatement:
    resources = None if stmt.resources is None else ResourceMatcher(stmt.resources, variables)
    variable_keys: list[str] = []
    for text in stmt.resources or ():
        variable_keys += [v.key for v in parse_template(text, enabled=variables).variables]
    conds: list[CompiledCondition] = []
    for cond in stmt.conditions:
        test = build_condition(cond.operator, cond.key, cond.values, variables=variables)
        conds.append(CompiledCondition(cond.operator, cond.key, test))
        for value in cond.values:
            variable_keys += [v.key for v in parse_template(value, enabled=variables).variables]
    return CompiledStatement(
        ref=StatementRef(source_id, stmt.sid, stmt.index, stmt.start, stmt.end),
        deny=stmt.deny,
        actions=ActionMatcher(stmt.actions),
        not_action=stmt.not_action,
        resources=resources,
        not_resource=stmt.not_resource,
        principals=None if stmt.principals is None else PrincipalMatcher(stmt.principals),
        not_principal=stmt.not_principal,
        conditions=tuple(conds),
        condition_keys=tuple({c.key.lower(): c.key for c in reversed(conds)}.values())[::-1],
        variable_keys=tuple(variable_keys),
    )


def _deny_everything(source_id: str, kind: PolicyKind, problems: list[Problem]) -> CompiledPolicy:
    here = Position(1, 1)
    stmt = CompiledStatement(
        ref=StatementRef(source_id, None, 0, here, here),
        deny=True,
        actions=ActionMatcher(("*",)),
        not_action=False,
        resources=ResourceMatcher(("*",), False),
        not_resource=False,
        principals=PrincipalMatcher((("AWS", "*"),)),
        not_principal=False,
        conditions=(),
        condition_keys=(),
        variable_keys=(),
    )
    return CompiledPolicy(source_id, kind, (stmt,), False, tuple(problems))


def compile_parsed(source_id: str, kind: PolicyKind, policy: ParsedPolicy) -> CompiledPolicy:
    variables = policy.variables_enabled
    statements = tuple(_compile_statement(source_id, s, variables) for s in policy.statements)
    return CompiledPolicy(source_id, kind, statements, True, ())


def compile_policy(text: str, kind: PolicyKind, source_id: str) -> CompiledPolicy:
    """Compile a policy document; never raises (see the module docstring: fails closed)."""
    try:
        policy, problems = analyse(text, kind)
        if policy is None:
            return _deny_everything(source_id, kind, problems)
        return compile_parsed(source_id, kind, policy)
    except Exception:  # fail closed on anything unexpected, by design
        message = Problem("Syntax errors in policy.", None, None, "error")
        return _deny_everything(source_id, kind, [message])
