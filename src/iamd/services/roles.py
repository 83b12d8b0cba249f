"""IAM roles: create, read, list, update, delete, tag; trust policies checked when written.

A role's trust policy (AssumeRolePolicyDocument) is a resource policy on the role: it
says who may assume it. It is checked when written with the policy engine's TRUST rules
(Principal required, no Resource, STS assume-role actions only: iam-facts §7.9) plus two
checks that need the account: its size (`AssumeRolePolicySizeQuota`, 2,048 characters
without whitespace, LimitExceeded "ACLSizePerRole" as AWS words it) and that every user
or role of this account it names exists (IAM resolves those ARNs to unique ids on save,
and refuses one it cannot resolve). When a user or role is deleted, trust policies that
name it are rewritten to name its unique id (`forget_principal`), as AWS shows them, so
trust does not pass to a new entity of the same name.

A service-linked role (path `/aws-service-role/`, made by `service_linked_roles`) is
changed only by its service: `require_changeable` answers UnmodifiableEntity, and
CreateRole refuses the path. DeleteRole also refuses a role in an instance profile.

Evaluating a trust policy for a caller is authorization's job (`iamd.authz.trust`).
Inline policies, attachments and boundaries of roles are served by the services shared
with users and groups (`owners.OwnerKind.ROLE`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from iamd.clock import Clock
from iamd.errors import (
    DeleteConflict,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
    UnmodifiableEntity,
)
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import Role, Tag, iam_arn
from iamd.model.instance_profiles import (
    IDENTITY_CENTER_ROLE_PATH,
    SERVICE_LINKED_ROLE_PATH,
    is_protected_role,
    is_service_linked,
)
from iamd.model.owners import OwnerKind
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.policy import (
    PolicyKind,
    check_policy,
)
from iamd.policy.document import analyse
from iamd.services.permissions_boundaries import require_boundary_policy
from iamd.services.tagging import ResourceTags, TaggedKind, check_tag_count
from iamd.store.owners import entities_of
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

DEFAULT_MAX_SESSION_DURATION = 3600

# What DeleteRole reports when something still hangs off the role, in AWS's order.
_DELETE_CONFLICTS = {
    "policies": DeleteConflict.INLINE_POLICIES,
    "attached policies": DeleteConflict.ATTACHED_POLICIES,
}


def require_role(repos: Repositories, name: str, *, for_update: bool = False) -> Role:
    role = repos.roles.get_by_name(name, for_update=for_update)
    if role is None:
        raise NoSuchEntity.named("role", name)
    return role


def require_changeable(role: Role) -> Role:
    """A service-linked role is changed only by its service, an Identity Center role only
    by Identity Center (UnmodifiableEntity)."""
    if is_protected_role(role.path):
        raise UnmodifiableEntity.protected_role(role.name)
    return role


def check_trust_policy(repos: Repositories, document: str, max_size: int) -> None:
    """Raise MalformedPolicyDocument or LimitExceeded unless `document` may be stored
    as a role's trust policy."""
    problems = check_policy(document, PolicyKind.TRUST, max_size=max_size)
    for problem in problems:
        if problem.kind == "error":
            raise MalformedPolicyDocument(problem.message)
    if problems:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {max_size}")
    parsed, _ = analyse(document, PolicyKind.TRUST)
    for statement in parsed.statements if parsed else ():
        for kind, value in statement.principals or ():
            if kind == "AWS" and not _principal_exists(repos, value):
                raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{value}"')


def _principal_exists(repos: Repositories, value: str) -> bool:
    """False for an ARN naming a user or role that does not exist in this account or
    in another account iamd serves (AWS checks principals of other accounts too).

    Accounts iamd does not serve cannot be checked and are taken as given.
    """
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        return True
    if parts[4] != repos.account_id:
        if repos.account.get_account(parts[4]) is None:
            return True
        repos = repos.in_account(parts[4])
    kind, _, rest = parts[5].partition("/")
    if kind not in ("user", "role"):
        return True
    path, _, name = ("/" + rest).rpartition("/")
    entity = entities_of(repos, OwnerKind(kind)).get_by_name(name)
    # User and role names in principals are case-sensitive, and the path must match.
    return entity is not None and entity.name == name and entity.path == path + "/"


def follow_principal(repos: Repositories, old_arn: str, new_arn: str) -> None:
    """A user was renamed or moved: trust policies naming its old ARN name the new one.

    IAM stores the unique id, so trust follows the entity; leaving the old ARN would
    both cut the renamed user off and trust whoever is created with the old name next.
    """
    if old_arn == new_arn:
        return
    name = old_arn.rpartition("/")[2]
    for role in repos.roles.trust_policies_containing(name):
        document = json.loads(role.assume_role_policy)
        if _replace_principal(document, old_arn, new_arn):
            repos.roles.update(role.role_id, assume_role_policy=json.dumps(document))


def forget_principal(repos: Repositories, arn: str, unique_id: str) -> None:
    """A user or role is being deleted: trust policies naming it now name its unique id.

    IAM stores a principal ARN as the entity's unique id and shows the id once the entity
    is gone, so a new user or role of the same name is NOT trusted: trust granted to
    the old one does not pass to whoever takes the name next.
    """
    name = arn.rpartition("/")[2]
    for role in repos.roles.trust_policies_containing(name):
        document = json.loads(role.assume_role_policy)
        if _replace_principal(document, arn, unique_id):
            repos.roles.update(role.role_id, assume_role_policy=json.dumps(document))


def _replace_principal(document: Any, arn: str, unique_id: str) -> bool:
    changed = False
    statements = document.get("Statement") if isinstance(document, dict) else None
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            continue
        for element in ("Principal", "NotPrincipal"):
            principal = statement.get(element)
            if not isinstance(principal, dict) or "AWS" not in principal:
                continue
            values = principal["AWS"]
            if values == arn:
                principal["AWS"] = unique_id
                changed = True
            elif isinstance(values, list) and arn in values:
                principal["AWS"] = [unique_id if v == arn else v for v in values]
                changed = True
    return changed


def _tags_changeable(role: Role) -> None:
    # [I] AWS's docs do not say whether TagRole works on a service-linked role; iamd
    # protects it like every other change.
    require_changeable(role)


_TAGS: TaggedKind[Role] = TaggedKind(
    find=lambda repos, name, for_update: require_role(repos, name, for_update=for_update),
    tags_of=lambda role: role.tags,
    owner_id=lambda role: role.role_id,
    repository=lambda repos: repos.roles.tags,
    check_changeable=lambda role, _change: _tags_changeable(role),
)


class RoleService:
    def __init__(self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas
        self.tags = ResourceTags(tx, _TAGS, quotas.tags_per_resource)

    def create(
        self,
        name: str,
        path: str,
        assume_role_policy: str,
        *,
        description: str | None = None,
        max_session_duration: int | None = None,
        permissions_boundary_arn: str | None = None,
        tags: Sequence[Tag] = (),
    ) -> Role:
        if is_service_linked(path):
            raise InvalidInput(
                f"Path prefix '{SERVICE_LINKED_ROLE_PATH}' can only be used for AWS Service "
                "linked Roles"
            )
        if path.startswith(IDENTITY_CENTER_ROLE_PATH):
            # [I] AWS's wording for this path is not documented; the rule is.
            raise InvalidInput(
                f"Path prefix '{IDENTITY_CENTER_ROLE_PATH}' is reserved for IAM Identity Center"
            )
        # A new role: no cached credential can depend on it.
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("roles")
            check_trust_policy(repos, assume_role_policy, self._quotas.assume_role_policy_size)
            if permissions_boundary_arn is not None:
                require_boundary_policy(repos, permissions_boundary_arn)
            if repos.roles.count() >= self._quotas.roles:
                raise LimitExceeded.quota("RolesPerAccount", self._quotas.roles)
            check_tag_count((), tags, self._quotas.tags_per_resource)
            role = Role(
                role_id=self._ids.entity_id(IdPrefix.ROLE),
                name=name,
                path=path,
                arn=iam_arn(self._tx.account_id, "role", path, name),
                create_date=self._clock.now(),
                assume_role_policy=assume_role_policy,
                max_session_duration=max_session_duration or DEFAULT_MAX_SESSION_DURATION,
                description=description,
                permissions_boundary_arn=permissions_boundary_arn,
                tags=tuple(tags),
            )
            repos.roles.add(role)
            return role

    def get(self, name: str) -> Role:
        with self._tx.read() as repos:
            return require_role(repos, name)

    def get_by_id(self, role_id: str) -> Role | None:
        with self._tx.read() as repos:
            return repos.roles.get_by_id(role_id)

    def listing(self, path_prefix: str, marker: str | None, max_items: int) -> Page[Role]:
        with self._tx.read() as repos:
            return repos.roles.listing(path_prefix, marker, max_items)

    def update(
        self, name: str, *, description: str | None, max_session_duration: int | None
    ) -> Role:
        """UpdateRole / UpdateRoleDescription: change what is given, keep the rest."""
        values: dict[str, str | int | None] = {}
        if description is not None:
            # An empty description removes it [I: AWS's rendering of "" is not documented].
            values["description"] = description or None
        if max_session_duration is not None:
            values["max_session_duration"] = max_session_duration
        # Sessions already issued keep their expiry: no cached credential changes.
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            role = require_role(repos, name, for_update=True)
            # A service-linked role's description may be edited, as in AWS; nothing else.
            if max_session_duration is not None:
                require_changeable(role)
            repos.roles.update(role.role_id, **values)
            return require_role(repos, name)

    def update_assume_role_policy(self, name: str, document: str) -> None:
        # Who may assume the role changes; existing sessions are not affected.
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            role = require_changeable(require_role(repos, name, for_update=True))
            check_trust_policy(repos, document, self._quotas.assume_role_policy_size)
            repos.roles.update(role.role_id, assume_role_policy=document)

    def delete(self, name: str) -> None:
        with self._tx.write() as repos:
            role = require_changeable(require_role(repos, name, for_update=True))
            delete_role(repos, role)


def delete_role(repos: Repositories, role: Role) -> None:
    """Delete the role unless something still hangs off it (DeleteConflict)."""
    conflicts = repos.roles.dependents(role.role_id)
    if conflicts:
        raise DeleteConflict(_DELETE_CONFLICTS[conflicts[0]])
    # [I] AWS's docs list instance profiles after the policies; its order is not documented.
    if repos.instance_profiles.holds_role(role.role_id):
        raise DeleteConflict(DeleteConflict.INSTANCE_PROFILES)
    repos.roles.delete(role.role_id)
    forget_principal(repos, role.arn, role.role_id)
