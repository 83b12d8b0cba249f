"""Parse and validate a policy document, reporting every problem with its location.

`analyse` scans the JSON (keeping positions), checks the IAM policy grammar for the kind
of policy (identity, resource, trust, boundary, session) and returns the parsed statements
together with all problems found. Messages are the exact MalformedPolicyDocument texts
AWS returns (see iam-facts §7.4, §7.9); where AWS stops at the first problem we go on and
report all of them, each pointing at the JSON value at fault (start = its first character,
end = its last character, 1-based line/column).

Size (`max_size`) is counted like AWS's quotas: characters other than whitespace, wherever
they are (inside string literals too; the service layer's check counts the same way).
Service control policies are the exception: AWS Organizations counts every character,
white space included ("All characters in your SCP count against its maximum size", the
SCP syntax page; only the console strips white space before saving), and an SCP's limit
of 5,120 characters applies without being asked for.

SCPs (`PolicyKind.SCP`) use the IAM grammar that AWS Organizations documents for them:
Version, Id and Statement; per statement Sid, Effect, Action or NotAction, Resource or
NotResource and Condition, with either effect (the full IAM language SCPs support since
2025). Principal and NotPrincipal are refused, as in identity policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from iamd.policy import conditions
from iamd.policy.jsonscan import JsonError, LineIndex, Node, Position, scan
from iamd.policy.matching import Glob

SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
DUPLICATE_SID = "Statement IDs (SID) in a single policy must be unique."
SID_CHARS = (
    "Statement IDs (SID) must be alpha-numeric. "
    "Check that your input satisfies the regular expression [0-9A-Za-z]*"
)
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
NO_PRINCIPAL_ALLOWED = "Policy document should not specify a principal."
PRINCIPAL_REQUIRED = "Missing required field Principal"
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
TRUST_ACTIONS_ONLY = "AssumeRole policy may only specify STS AssumeRole actions."
# The actions a role's trust policy may name (lower case): assuming the role, and what
# may accompany it (session tags, source identity, context). A wildcard is accepted when
# it stays within `sts:` and covers one of them [I: AWS's rule for wildcards here is not
# documented; a bare "*" is refused].
TRUST_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithsaml",
        "sts:assumerolewithwebidentity",
        "sts:tagsession",
        "sts:setsourceidentity",
        "sts:setcontext",
    }
)
RESOURCE_VENDOR = "Resource vendor must be fully qualified and cannot contain regexes."
IAM_RESOURCE_PREFIXES = (
    "user/",
    "group/",
    "role/",
    "policy/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "federated-user/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)
# IAM resource types newer than the message above, which AWS has not changed for them:
# delegation requests (the Service Authorization Reference's delegation-request).
UNLISTED_IAM_RESOURCE_PREFIXES = ("delegation-request/",)
IAM_RESOURCE_PATH = (
    'IAM resource path must either be "*" or start with ' + ", ".join(IAM_RESOURCE_PREFIXES) + "."
)
PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}
)
VERSIONS = ("2012-10-17", "2008-10-17")
TOP_KEYS = frozenset({"Version", "Id", "Statement"})
STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


class PolicyKind(Enum):
    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"  # a role's trust policy: Principal required, Resource prohibited
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"  # a service control policy of AWS Organizations


#: AWS Organizations' maximum size of a service control policy, in characters (all of
#: them, white space included).
SCP_MAX_SIZE = 5_120


@dataclass(frozen=True)
class Problem:
    message: str
    start: Position | None
    end: Position | None
    kind: Literal["error", "limit"]


@dataclass(frozen=True)
class ParsedCondition:
    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ParsedStatement:
    index: int
    sid: str | None
    deny: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None  # None: no Resource element (trust policies)
    not_resource: bool
    principals: tuple[tuple[str, str], ...] | None  # (type, value); None: no Principal
    not_principal: bool
    conditions: tuple[ParsedCondition, ...]
    start: Position
    end: Position


@dataclass(frozen=True)
class ParsedPolicy:
    version: str
    id: str | None
    statements: tuple[ParsedStatement, ...]

    @property
    def variables_enabled(self) -> bool:
        return self.version == "2012-10-17"


def size_without_whitespace(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


class _Checker:
    def __init__(self, text: str, kind: PolicyKind) -> None:
        self.kind = kind
        self.lines = LineIndex(text)
        self.problems: list[Problem] = []
        self.text = text

    def at(self, offset: int) -> Position:
        return self.lines.position(offset)

    def report(self, message: str, node: Node) -> None:
        self.problems.append(Problem(message, self.at(node.start), self.at(node.end), "error"))

    def members(self, node: Node, allowed: frozenset[str]) -> dict[str, Node]:
        """Object members by name; duplicates and unknown names are syntax errors."""
        out: dict[str, Node] = {}
        for key, value in node.members:
            if key.text in out or key.text not in allowed:
                self.report(SYNTAX, key)
                continue
            out[key.text] = value
        return out

    def strings(self, node: Node) -> list[Node] | None:
        """A string or an array of strings; None (and a problem) otherwise."""
        if node.kind == "string":
            return [node]
        if node.kind == "array" and all(item.kind == "string" for item in node.items):
            return list(node.items)
        self.report(SYNTAX, node)
        return None

    # ------------------------------------------------------------- document

    def document(self, root: Node) -> ParsedPolicy | None:
        if root.kind != "object":
            self.report(SYNTAX, root)
            return None
        top = self.members(root, TOP_KEYS)
        version = "2008-10-17"
        if "Version" in top:
            node = top["Version"]
            if node.kind != "string" or node.text not in VERSIONS:
                self.report(SYNTAX, node)
            else:
                version = node.text
        policy_id = None
        if "Id" in top:
            if top["Id"].kind != "string":
                self.report(SYNTAX, top["Id"])
            else:
                policy_id = top["Id"].text
        statement = top.get("Statement")
        items: list[Node] = []
        if statement is None:
            self.report(SYNTAX, root)
        elif statement.kind == "object":
            items = [statement]
        elif statement.kind == "array" and statement.items:
            items = statement.items
        else:
            self.report(SYNTAX, statement)
        parsed: list[ParsedStatement] = []
        sids: set[str] = set()
        for index, item in enumerate(items):
            result = self.statement(index, item, sids)
            if result is not None:
                parsed.append(result)
        return ParsedPolicy(version, policy_id, tuple(parsed))

    # ------------------------------------------------------------- statement

    def statement(self, index: int, node: Node, sids: set[str]) -> ParsedStatement | None:
        if node.kind != "object":
            self.report(SYNTAX, node)
            return None
        before = len(self.problems)
        m = self.members(node, STATEMENT_KEYS)
        sid = self.sid(m.get("Sid"), sids)
        deny = self.effect(m.get("Effect"), node)
        actions, not_action = self.actions(m, node)
        resources, not_resource = self.resources(m, node)
        principals, not_principal = self.principals(m, node)
        conds = self.conditions(m.get("Condition"))
        if len(self.problems) != before:
            return None
        return ParsedStatement(
            index=index,
            sid=sid,
            deny=deny,
            actions=actions,
            not_action=not_action,
            resources=resources,
            not_resource=not_resource,
            principals=principals,
            not_principal=not_principal,
            conditions=conds,
            start=self.at(node.start),
            end=self.at(node.end),
        )

    def sid(self, node: Node | None, sids: set[str]) -> str | None:
        if node is None:
            return None
        if node.kind != "string":
            self.report(SYNTAX, node)
            return None
        sid = node.text
        if self.kind is not PolicyKind.RESOURCE and not all(
            ch.isascii() and ch.isalnum() for ch in sid
        ):
            self.report(SID_CHARS, node)
        if sid:
            if sid in sids:
                self.report(DUPLICATE_SID, node)
            sids.add(sid)
        return sid

    def effect(self, node: Node | None, statement: Node) -> bool:
        if node is None:
            self.report(SYNTAX, statement)
            return True
        if node.kind != "string":
            self.report(SYNTAX, node)
        elif node.text not in ("Allow", "Deny"):
            self.report(LEGACY if node.text.lower() in ("allow", "deny") else SYNTAX, node)
        return node.text != "Allow"

    def actions(self, m: dict[str, Node], statement: Node) -> tuple[tuple[str, ...], bool]:
        if "Action" in m and "NotAction" in m:
            self.report(SYNTAX, m["NotAction"])
        not_action = "Action" not in m and "NotAction" in m
        node = m.get("NotAction" if not_action else "Action")
        if node is None:
            self.report(NO_ACTIONS, statement)
            return (), not_action
        items = self.strings(node)
        if items is None:
            return (), not_action
        if not items:
            self.report(NO_ACTIONS, node)
        for item in items:
            self.action(item)
        return tuple(item.text for item in items), not_action

    def action(self, node: Node) -> None:
        text = node.text
        if text == "*":
            if self.kind is PolicyKind.TRUST:
                self.report(TRUST_ACTIONS_ONLY, node)
            return
        if ":" not in text:
            self.report(NO_VENDOR, node)
            return
        vendor, _, _ = text.partition(":")
        if text.count(":") > 1:
            self.report(ONE_COLON, node)
        elif not vendor or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in vendor):
            self.report(f"Vendor {vendor} is not valid", node)
        elif self.kind is PolicyKind.TRUST and not _trust_action(text):
            self.report(TRUST_ACTIONS_ONLY, node)

    def resources(self, m: dict[str, Node], statement: Node) -> tuple[tuple[str, ...] | None, bool]:
        if "Resource" in m and "NotResource" in m:
            self.report(SYNTAX, m["NotResource"])
        not_resource = "Resource" not in m and "NotResource" in m
        name = "NotResource" if not_resource else "Resource"
        node = m.get(name)
        if self.kind is PolicyKind.TRUST:
            if node is not None:
                self.report(f"Has prohibited field {name}", node)
            return None, False
        if node is None:
            self.report(NO_RESOURCES, statement)
            return (), not_resource
        items = self.strings(node)
        if items is None:
            return (), not_resource
        if not items:
            self.report(NO_RESOURCES, node)
        for item in items:
            self.resource(item)
        return tuple(item.text for item in items), not_resource

    def resource(self, node: Node) -> None:
        text = node.text
        if text == "*":
            return
        if not text.startswith("arn:"):
            self.report(f'Resource {text} must be in ARN format or "*".', node)
            return
        parts = text.split(":", 5)
        if parts[1] not in PARTITIONS:
            self.report(f'Partition "{parts[1]}" is not valid for resource "{text}".', node)
            return
        if len(parts) < 6:
            if "::" in text:
                self.report(LEGACY, node)
            elif len(parts) < 3 or not parts[2] or "*" in parts[2] or "?" in parts[2]:
                self.report(RESOURCE_VENDOR, node)
            else:
                self.report(f'Resource {text} must be in ARN format or "*".', node)
            return
        service, region, resource = parts[2], parts[3], parts[5]
        if not service or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in service):
            self.report(RESOURCE_VENDOR, node)
            return
        if service == "s3" and region and not any(ch in region for ch in "*?$"):
            # AWS's wording for S3, "can not" in two words (aws/aws-cdk#22445). Only a
            # literal region is known to be refused; a wildcard one matches S3's empty one.
            self.report(f"Resource {text} can not contain region information.", node)
            return
        if service == "iam":
            if region:
                self.report(f"IAM resource {text} cannot contain region information.", node)
            elif resource not in ("*", "root") and not resource.startswith(
                (*IAM_RESOURCE_PREFIXES, *UNLISTED_IAM_RESOURCE_PREFIXES)
            ):
                # `root` (an account's root user) is not in AWS's message, but AWS's own
                # root-task policies name arn:aws:iam::*:root, so IAM accepts it.
                self.report(IAM_RESOURCE_PATH, node)

    def principals(
        self, m: dict[str, Node], statement: Node
    ) -> tuple[tuple[tuple[str, str], ...] | None, bool]:
        present = [name for name in ("Principal", "NotPrincipal") if name in m]
        if self.kind in (
            PolicyKind.IDENTITY,
            PolicyKind.BOUNDARY,
            PolicyKind.SESSION,
            PolicyKind.SCP,
        ):
            for name in present:
                self.report(NO_PRINCIPAL_ALLOWED, m[name])
            return None, False
        if not present:
            self.report(PRINCIPAL_REQUIRED, statement)
            return None, False
        if len(present) == 2:
            self.report(SYNTAX, m["NotPrincipal"])
        name = present[0]
        node = m[name]
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        if node.kind == "string":
            if node.text != "*":
                self.report(SYNTAX, node)
            out.append(("AWS", "*"))
        elif node.kind == "object":
            for key, value in node.members:
                if key.text not in PRINCIPAL_TYPES or key.text in seen:
                    self.report(SYNTAX, key)
                    continue
                seen.add(key.text)
                items = self.strings(value)
                for item in items or ():
                    if key.text == "AWS" and not valid_aws_principal(item.text):
                        self.report(f'Invalid principal in policy: "AWS":"{item.text}"', item)
                    out.append((key.text, item.text))
        else:
            self.report(SYNTAX, node)
        return tuple(out), name == "NotPrincipal"

    # ------------------------------------------------------------- condition

    def conditions(self, node: Node | None) -> tuple[ParsedCondition, ...]:
        if node is None:
            return ()
        if node.kind != "object":
            self.report(SYNTAX, node)
            return ()
        out: list[ParsedCondition] = []
        seen_ops: set[str] = set()
        for op_node, body in node.members:
            operator = op_node.text
            if operator in seen_ops:
                self.report(SYNTAX, op_node)
            seen_ops.add(operator)
            if body.kind != "object":
                self.report(SYNTAX, body)
                continue
            parsed = conditions.parse_operator_name(operator)
            if parsed is None:
                if body.members:
                    self.report(SYNTAX, op_node)
                continue
            seen_keys: set[str] = set()
            for key_node, value in body.members:
                if key_node.text in seen_keys:
                    self.report(SYNTAX, key_node)
                seen_keys.add(key_node.text)
                # A condition key without a vendor prefix ("foo") is accepted, as AWS
                # accepts it (act-security-labs/iam-simulate#55); it matches no request key.
                values = self.condition_values(value)
                if values is None:
                    continue
                if parsed.base.startswith("Date"):
                    for text, item in values:
                        if conditions.parse_date(text) is None:
                            self.report(LEGACY, item)
                out.append(
                    ParsedCondition(operator, key_node.text, tuple(text for text, _ in values))
                )
        return tuple(out)

    def condition_values(self, node: Node) -> list[tuple[str, Node]] | None:
        items = node.items if node.kind == "array" else [node]
        out: list[tuple[str, Node]] = []
        for item in items:
            if item.kind in ("string", "number"):
                out.append((item.text, item))
            elif item.kind in ("true", "false"):
                out.append((item.kind, item))
            else:
                self.report(SYNTAX, item)
                return None
        return out


def _trust_action(text: str) -> bool:
    lowered = text.lower()
    if not lowered.startswith("sts:"):
        return False
    if "*" in lowered or "?" in lowered:
        glob = Glob.of(lowered)
        return any(glob.matches(action) for action in TRUST_ACTIONS)
    return lowered in TRUST_ACTIONS


def _is_account_id(value: str) -> bool:
    return len(value) == 12 and value.isascii() and value.isdigit()


def valid_aws_principal(value: str) -> bool:
    """`*`, an account id, an IAM/STS principal ARN (no wildcards) or a unique id."""
    if value == "*":
        return True
    if _is_account_id(value):
        return True
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) != 6 or "*" in value or "?" in value:
            return False
        _, partition, service, region, account, resource = parts
        if partition not in PARTITIONS or region or not _is_account_id(account):
            return False
        if service == "iam":
            return resource == "root" or resource.startswith(("user/", "role/", "federated-user/"))
        if service == "sts":
            return resource.startswith(("assumed-role/", "federated-user/"))
        return False
    return len(value) >= 16 and value.isascii() and value.isalnum() and value.isupper()


def _json_problem(checker: _Checker, offset: int) -> None:
    pos = checker.at(min(offset, max(len(checker.text) - 1, 0)))
    checker.problems.append(Problem(SYNTAX, pos, pos, "error"))


def analyse(
    text: str, kind: PolicyKind, *, max_size: int | None = None
) -> tuple[ParsedPolicy | None, list[Problem]]:
    """The parsed policy (None if it is not usable) and every problem found."""
    checker = _Checker(text, kind)
    if kind is PolicyKind.SCP:
        limit = SCP_MAX_SIZE if max_size is None else max_size
        if len(text) > limit:
            end = checker.at(max(len(text) - 1, 0))
            checker.problems.append(
                Problem(
                    f"Cannot exceed quota for PolicySize: {limit}", Position(1, 1), end, "limit"
                )
            )
    elif max_size is not None and size_without_whitespace(text) > max_size:
        end = checker.at(max(len(text) - 1, 0))
        checker.problems.append(
            Problem(f"Cannot exceed quota for PolicySize: {max_size}", Position(1, 1), end, "limit")
        )
    try:
        root = scan(text)
    except JsonError as exc:
        _json_problem(checker, exc.offset)
        return None, checker.problems
    policy = checker.document(root)
    errors = [p for p in checker.problems if p.kind == "error"]
    return (None if errors else policy), in_aws_order(checker.problems)


def _phase(problem: Problem) -> int:
    """Where AWS's validation finds a problem: a document with several is answered with
    the first phase's first problem (issue 16: JSON syntax and value types, Version,
    legacy parsing of Effect, dates and ARNs, Sid uniqueness, actions present, resource
    format, action prefix)."""
    message = problem.message
    if problem.kind == "limit":
        return 0
    if message == SYNTAX:
        return 1
    if message == LEGACY:
        return 2
    if message in (SID_CHARS, DUPLICATE_SID):
        return 3
    if message in (NO_ACTIONS, NO_RESOURCES, NO_PRINCIPAL_ALLOWED, PRINCIPAL_REQUIRED):
        return 4
    if message.startswith("Has prohibited field"):
        return 4
    if message in (NO_VENDOR, ONE_COLON, TRUST_ACTIONS_ONLY) or message.startswith("Vendor "):
        return 6
    return 5  # the resource's format, partition, vendor, region and path


def in_aws_order(problems: list[Problem]) -> list[Problem]:
    """The problems in the order AWS's validation meets them (stable within a phase:
    document order)."""
    return sorted(problems, key=_phase)
