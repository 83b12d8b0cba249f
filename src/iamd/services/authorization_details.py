"""GetAccountAuthorizationDetails: a snapshot of users, groups, roles and policies.

The listing is one sequence, paginated as a whole: users (by name), groups (by name),
roles (by name), customer managed policies, then the AWS managed policies the account
uses (by ARN). A marker names the section and the sort key of the last item returned,
so each page is a few indexed range queries however deep it is.

AWS managed policies are included only when something in the account uses them
(attached, or a permissions boundary) [I: AWS's documented intent is a snapshot of the
account's permissions; its exact rule is not documented].
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from iamd.errors import InvalidInput
from iamd.model import (
    AttachedPolicy,
    Group,
    InlinePolicy,
    ManagedPolicy,
    PolicyVersion,
    Role,
    User,
)
from iamd.model.instance_profiles import InstanceProfile
from iamd.store.schema import (
    group_policy_attachments,
    role_policy_attachments,
    user_policy_attachments,
)
from iamd.store.sql.paging import decode_marker, encode_marker
from iamd.store.transactions import Repositories, Transactions

ALL_FILTERS = frozenset({"User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"})


@dataclass(frozen=True, slots=True)
class UserDetail:
    user: User
    inline_policies: list[InlinePolicy]
    group_names: list[str]
    attached_policies: list[AttachedPolicy]


@dataclass(frozen=True, slots=True)
class GroupDetail:
    group: Group
    inline_policies: list[InlinePolicy]
    attached_policies: list[AttachedPolicy]


@dataclass(frozen=True, slots=True)
class RoleDetail:
    role: Role
    inline_policies: list[InlinePolicy]
    attached_policies: list[AttachedPolicy]
    instance_profiles: list[InstanceProfile] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PolicyDetail:
    policy: ManagedPolicy
    versions: list[PolicyVersion]


@dataclass(slots=True)
class AuthorizationDetails:
    users: list[UserDetail] = field(default_factory=list)
    groups: list[GroupDetail] = field(default_factory=list)
    roles: list[RoleDetail] = field(default_factory=list)
    policies: list[PolicyDetail] = field(default_factory=list)
    next_marker: str | None = None

    @property
    def count(self) -> int:
        return len(self.users) + len(self.groups) + len(self.roles) + len(self.policies)


# One section of the listing: given (after, limit) it adds up to `limit` items to the
# result and returns the sort key of each item added, in order.
_Section = Callable[[Repositories, str | None, int, AuthorizationDetails], list[str]]


def _users(
    repos: Repositories, after: str | None, limit: int, out: AuthorizationDetails
) -> list[str]:
    page = repos.users.listing("/", _marker(after), limit)
    for user in page.items:
        out.users.append(
            UserDetail(
                user=user,
                inline_policies=repos.user_inline_policies.all(user.user_id),
                group_names=[g.name for g in _all_groups_of(repos, user.user_id)],
                attached_policies=repos.policies.attached_to(
                    user_policy_attachments, "user_id", user.user_id
                ),
            )
        )
    return [user.name.lower() for user in page.items]


def _all_groups_of(repos: Repositories, user_id: str) -> list[Group]:
    # A user is in at most GroupsPerUser (10) groups: one page holds them all.
    return repos.groups.list_for_user(user_id, None, 1000).items


def _groups(
    repos: Repositories, after: str | None, limit: int, out: AuthorizationDetails
) -> list[str]:
    page = repos.groups.listing("/", _marker(after), limit)
    for group in page.items:
        out.groups.append(
            GroupDetail(
                group=group,
                inline_policies=repos.group_inline_policies.all(group.group_id),
                attached_policies=repos.policies.attached_to(
                    group_policy_attachments, "group_id", group.group_id
                ),
            )
        )
    return [group.name.lower() for group in page.items]


def _roles(
    repos: Repositories, after: str | None, limit: int, out: AuthorizationDetails
) -> list[str]:
    page = repos.roles.listing_with_tags(_marker(after), limit)
    for role in page.items:
        out.roles.append(
            RoleDetail(
                role=role,
                inline_policies=repos.role_inline_policies.all(role.role_id),
                attached_policies=repos.policies.attached_to(
                    role_policy_attachments, "role_id", role.role_id
                ),
                instance_profiles=repos.instance_profiles.for_role(role.role_id),
            )
        )
    return [role.name.lower() for role in page.items]


def _policies(scope: str, usage: str | None) -> _Section:
    def section(
        repos: Repositories, after: str | None, limit: int, out: AuthorizationDetails
    ) -> list[str]:
        page = repos.policies.listing(
            scope=scope,
            only_attached=False,
            path_prefix="/",
            marker=_marker(after),
            max_items=limit,
            usage=usage,
        )
        for policy in page.items:
            out.policies.append(
                PolicyDetail(policy, repos.policies.list_versions(policy.policy_id))
            )
        return [policy.arn for policy in page.items]

    return section


# (section name, the Filter value that selects it, how to list it), in listing order.
_SECTIONS: tuple[tuple[str, str, _Section], ...] = (
    ("user", "User", _users),
    ("group", "Group", _groups),
    ("role", "Role", _roles),
    ("local", "LocalManagedPolicy", _policies("Local", None)),
    ("aws", "AWSManagedPolicy", _policies("AWS", "InUse")),
)


def _marker(after: str | None) -> str | None:
    """A repository marker resuming after `after` (the repositories' own encoding)."""
    return encode_marker(after) if after is not None else None


def _decode(marker: str | None) -> tuple[int, str | None]:
    """(index of the section to resume in, sort key to resume after)."""
    if marker is None:
        return 0, None
    name, sep, key = (decode_marker(marker) or "").partition("\n")
    for index, (section, _filter, _list) in enumerate(_SECTIONS):
        if sep and section == name:
            return index, key
    raise InvalidInput("Invalid Marker.")


class AuthorizationDetailsService:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def details(
        self, filters: Collection[str], marker: str | None, max_items: int
    ) -> AuthorizationDetails:
        wanted = set(filters) or ALL_FILTERS
        start, after = _decode(marker)
        out = AuthorizationDetails()
        with self._tx.read() as repos:
            for index in range(start, len(_SECTIONS)):
                name, selector, list_section = _SECTIONS[index]
                if selector not in wanted:
                    continue
                room = max_items - out.count
                section_after = after if index == start else None
                # One more than there is room for tells whether anything follows.
                keys = list_section(repos, section_after, room + 1, out)
                if len(keys) > room:
                    _drop_last(out, name)
                    # Resume after the last item returned, or (page full before this
                    # section began) where this section was to start.
                    resume = keys[room - 1] if room else (section_after or "")
                    out.next_marker = encode_marker(f"{name}\n{resume}")
                    return out
        return out


def _drop_last(out: AuthorizationDetails, section: str) -> None:
    if section == "user":
        out.users.pop()
    elif section == "group":
        out.groups.pop()
    elif section == "role":
        out.roles.pop()
    else:
        out.policies.pop()
