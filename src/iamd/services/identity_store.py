"""The identity store of an Identity Center instance (botocore's `identitystore`):
users, groups and group memberships.

A store is reached by its id (`d-` and 10 hex digits) and belongs to the account that
owns its instance (the organization's management account); another account's call is
AccessDeniedException, an unknown id ResourceNotFoundException (IDENTITY_STORE). User
names and group display names are unique in a store, ignoring case
(ConflictException UNIQUENESS_CONSTRAINT_VIOLATION). A user's attributes other than its
name are kept as the API carries them; UpdateUser's operations replace or remove one
attribute (or sub-attribute) each, by its lowerCamel path (`displayName`,
`name.givenName`).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from iamd.clock import Clock
from iamd.errors import (
    IdentityCenterAccessDenied,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationError,
)
from iamd.model.identity_center import DirectoryGroup, DirectoryUser, GroupMembership, Instance
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

T = TypeVar("T")

#: Identity Center's default quotas: users and groups per identity store.
MAX_USERS = 50_000
MAX_GROUPS = 10_000
DEFAULT_PAGE_SIZE = 100
#: The user attributes CreateUser takes besides the store and the name.
USER_ATTRIBUTES = (
    "Name",
    "DisplayName",
    "NickName",
    "ProfileUrl",
    "Emails",
    "Addresses",
    "PhoneNumbers",
    "UserType",
    "Title",
    "PreferredLanguage",
    "Locale",
    "Timezone",
    "Photos",
    "Website",
    "Birthdate",
    "Roles",
    "Extensions",
)
_SUB_ATTRIBUTES = {
    "Name": (
        "Formatted",
        "FamilyName",
        "GivenName",
        "MiddleName",
        "HonorificPrefix",
        "HonorificSuffix",
    ),
}
#: What a user keeps: the API's attributes, and the ids an external identity source
#: (SCIM's `externalId`) gave it, which DescribeUser shows as AWS does.
_KEPT_ATTRIBUTES = (*USER_ATTRIBUTES, "ExternalIds")
_TOKEN_PREFIX = "iamdids1"  # noqa: S105 - a page token's tag, not a secret


@dataclass(frozen=True, slots=True)
class StorePage(Generic[T]):
    items: list[T]
    next_token: str | None


def new_resource_id(identity_store_id: str) -> str:
    """A user's, group's or membership's id: the store's digits, then a UUID (AWS's form)."""
    return f"{identity_store_id[2:]}-{uuid.uuid4()}"


def new_identity_store_id() -> str:
    return "d-" + secrets.token_hex(5)


class IdentityStoreService:
    def __init__(self, tx: Transactions, clock: Clock) -> None:
        # The account's own transactions: only its own instance's store is reachable.
        self._tx = tx
        self._clock = clock

    # -- users -------------------------------------------------------------------------

    def create_user(
        self, store_id: str, params: Mapping[str, Any], by: str, *, status: str = "ENABLED"
    ) -> DirectoryUser:
        """A new user; `params` as CreateUser takes them (SCIM adds `ExternalIds`)."""
        user_name = params.get("UserName")
        if not user_name:
            raise ValidationError("UserName is a required attribute.")
        _check_display_name(params)
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            if repos.identity_center.count_users(store_id) >= MAX_USERS:
                raise ServiceQuotaExceededException(
                    "The request would cause the number of users in the identity store to "
                    "exceed the maximum allowed."
                )
            user = DirectoryUser(
                identity_store_id=store_id,
                user_id=new_resource_id(store_id),
                user_name=user_name,
                attributes={key: params[key] for key in _KEPT_ATTRIBUTES if key in params},
                status=status,
                created=now,
                updated=now,
                created_by=by,
                updated_by=by,
            )
            repos.identity_center.add_user(user)
        return user

    def user(self, store_id: str, user_id: str) -> DirectoryUser:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            return _require_user(repos, store_id, user_id)

    def users(
        self,
        store_id: str,
        filters: Sequence[Mapping[str, str]],
        token: str | None,
        max_results: int | None,
    ) -> StorePage[DirectoryUser]:
        user_name = _only_filter(filters, "UserName")
        after = after_key("users", token)
        size = max_results or DEFAULT_PAGE_SIZE
        with self._tx.read() as repos:
            self._store(repos, store_id)
            found = repos.identity_center.users(store_id, after, size + 1, user_name)
        return page_of_keys(found, size, "users", lambda user: user.user_id)

    def update_user(
        self, store_id: str, user_id: str, operations: Sequence[Mapping[str, Any]], by: str
    ) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            user = _require_user(repos, store_id, user_id)
            attributes = dict(user.attributes)
            user_name = user.user_name
            for operation in operations:
                path = _attribute_path(operation.get("AttributePath", ""))
                value = operation.get("AttributeValue")
                if path == ("UserName",):
                    if not isinstance(value, str) or not value:
                        raise ValidationError("userName must be a non-empty string.")
                    user_name = value
                    continue
                _apply(attributes, path, value)
            _check_display_name(attributes)
            repos.identity_center.replace_user(
                replace(
                    user,
                    user_name=user_name,
                    attributes=attributes,
                    updated=self._clock.now(),
                    updated_by=by,
                )
            )

    def modify_user(
        self,
        store_id: str,
        user_id: str,
        change: Callable[[DirectoryUser], DirectoryUser],
        by: str,
    ) -> DirectoryUser:
        """Replace a user with what `change` makes of it, in one transaction (SCIM's PUT and
        PATCH). A user disabled here loses its portal tokens at once, as a deleted one."""
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            user = _require_user(repos, store_id, user_id)
            changed = change(user)
            if not changed.user_name:
                raise ValidationError("userName must be a non-empty string.")
            _check_display_name(changed.attributes)
            changed = replace(changed, updated=self._clock.now(), updated_by=by)
            repos.identity_center.replace_user(changed)
            if changed.status != "ENABLED" and user.status == "ENABLED":
                repos.identity_center_sign_in.revoke_user(user_id)
        return changed

    def user_with_external_id(
        self, store_id: str, issuer: str, external_id: str
    ) -> DirectoryUser | None:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            return _user_with_external_id(repos, store_id, issuer, external_id)

    def delete_user(self, store_id: str, user_id: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            if not repos.identity_center.delete_user(store_id, user_id):
                raise _user_not_found(user_id)
            # Its portal tokens stop at once, as its password does.
            repos.identity_center_sign_in.revoke_user(user_id)
            repos.identity_center_sign_in.delete_password(user_id)
            repos.identity_center_mfa.delete_user(user_id)

    def user_id_of(self, store_id: str, identifier: Mapping[str, Any]) -> str:
        """GetUserId: by `userName` (or an email address) or by external id."""
        with self._tx.read() as repos:
            self._store(repos, store_id)
            unique = identifier.get("UniqueAttribute")
            if unique is None:
                external = identifier.get("ExternalId") or {}
                by_external = _user_with_external_id(
                    repos, store_id, str(external.get("Issuer", "")), str(external.get("Id", ""))
                )
                if by_external is None:
                    raise ResourceNotFoundException.of("USER", None, "USER not found.")
                return by_external.user_id
            path = unique.get("AttributePath", "")
            value = unique.get("AttributeValue")
            if not isinstance(value, str):
                raise ValidationError("AttributeValue must be a string.")
            if path.lower() == "username":
                found = repos.identity_center.user_named(store_id, value)
            elif path.lower() == "emails.value":
                found = _user_with_email(repos, store_id, value)
            else:
                raise ValidationError(f"Invalid AttributePath: {path}")
        if found is None:
            raise ResourceNotFoundException.of("USER", None, "USER not found.")
        return found.user_id

    # -- groups ------------------------------------------------------------------------

    def create_group(
        self,
        store_id: str,
        display_name: str | None,
        description: str | None,
        by: str,
        external_ids: Sequence[Mapping[str, str]] = (),
    ) -> DirectoryGroup:
        if not display_name:
            raise ValidationError("DisplayName is a required attribute.")
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            if repos.identity_center.count_groups(store_id) >= MAX_GROUPS:
                raise ServiceQuotaExceededException(
                    "The request would cause the number of groups in the identity store to "
                    "exceed the maximum allowed."
                )
            group = DirectoryGroup(
                store_id,
                new_resource_id(store_id),
                display_name,
                description,
                [dict(entry) for entry in external_ids],
                now,
                now,
                by,
                by,
            )
            repos.identity_center.add_group(group)
        return group

    def group(self, store_id: str, group_id: str) -> DirectoryGroup:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            return _require_group(repos, store_id, group_id)

    def groups(
        self,
        store_id: str,
        filters: Sequence[Mapping[str, str]],
        token: str | None,
        max_results: int | None,
    ) -> StorePage[DirectoryGroup]:
        display_name = _only_filter(filters, "DisplayName")
        after = after_key("groups", token)
        size = max_results or DEFAULT_PAGE_SIZE
        with self._tx.read() as repos:
            self._store(repos, store_id)
            found = repos.identity_center.groups(store_id, after, size + 1, display_name)
        return page_of_keys(found, size, "groups", lambda group: group.group_id)

    def update_group(
        self, store_id: str, group_id: str, operations: Sequence[Mapping[str, Any]], by: str
    ) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            group = _require_group(repos, store_id, group_id)
            display_name, description = group.display_name, group.description
            for operation in operations:
                path = _attribute_path(operation.get("AttributePath", ""))
                value = operation.get("AttributeValue")
                if path == ("DisplayName",):
                    if not isinstance(value, str) or not value:
                        raise ValidationError("displayName must be a non-empty string.")
                    display_name = value
                elif path == ("Description",):
                    if value is not None and not isinstance(value, str):
                        raise ValidationError("description must be a string.")
                    description = value
                else:
                    raise ValidationError(f"Invalid attribute path: {'.'.join(path)}")
            repos.identity_center.replace_group(
                replace(
                    group,
                    display_name=display_name,
                    description=description,
                    updated=self._clock.now(),
                    updated_by=by,
                )
            )

    def modify_group(
        self,
        store_id: str,
        group_id: str,
        change: Callable[[DirectoryGroup], DirectoryGroup],
        by: str,
    ) -> DirectoryGroup:
        """Replace a group with what `change` makes of it, in one transaction (SCIM)."""
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            changed = change(_require_group(repos, store_id, group_id))
            if not changed.display_name:
                raise ValidationError("displayName must be a non-empty string.")
            changed = replace(changed, updated=self._clock.now(), updated_by=by)
            repos.identity_center.replace_group(changed)
        return changed

    def group_with_external_id(
        self, store_id: str, issuer: str, external_id: str
    ) -> DirectoryGroup | None:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            return _group_with_external_id(repos, store_id, issuer, external_id)

    def delete_group(self, store_id: str, group_id: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            if not repos.identity_center.delete_group(store_id, group_id):
                raise _group_not_found(group_id)

    def group_id_of(self, store_id: str, identifier: Mapping[str, Any]) -> str:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            unique = identifier.get("UniqueAttribute")
            if unique is None:
                external = identifier.get("ExternalId") or {}
                by_external = _group_with_external_id(
                    repos, store_id, str(external.get("Issuer", "")), str(external.get("Id", ""))
                )
                if by_external is None:
                    raise ResourceNotFoundException.of("GROUP", None, "GROUP not found.")
                return by_external.group_id
            path = unique.get("AttributePath", "")
            value = unique.get("AttributeValue")
            if path.lower() != "displayname":
                raise ValidationError(f"Invalid AttributePath: {path}")
            if not isinstance(value, str):
                raise ValidationError("AttributeValue must be a string.")
            found = repos.identity_center.groups(store_id, None, 1, value)
        if not found:
            raise ResourceNotFoundException.of("GROUP", None, "GROUP not found.")
        return found[0].group_id

    # -- memberships -------------------------------------------------------------------

    def add_member(self, store_id: str, group_id: str, user_id: str, by: str) -> GroupMembership:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            _require_group(repos, store_id, group_id)
            _require_user(repos, store_id, user_id)
            membership = GroupMembership(
                store_id, new_resource_id(store_id), group_id, user_id, self._clock.now(), by
            )
            repos.identity_center.add_membership(membership)
        return membership

    def change_members(
        self,
        store_id: str,
        group_id: str,
        add: Sequence[str],
        remove: Sequence[str],
        by: str,
    ) -> None:
        """Add and remove members of a group in one transaction (SCIM's PATCH): adding a
        member already there, or removing one who is not, changes nothing."""
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            _require_group(repos, store_id, group_id)
            for user_id in remove:
                found = repos.identity_center.membership_of(group_id, user_id)
                if found is not None and found.identity_store_id == store_id:
                    repos.identity_center.delete_membership(store_id, found.membership_id)
            for user_id in add:
                _require_user(repos, store_id, user_id)
                if repos.identity_center.membership_of(group_id, user_id) is None:
                    repos.identity_center.add_membership(
                        GroupMembership(
                            store_id,
                            new_resource_id(store_id),
                            group_id,
                            user_id,
                            self._clock.now(),
                            by,
                        )
                    )

    def membership(self, store_id: str, membership_id: str) -> GroupMembership:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            found = repos.identity_center.membership(store_id, membership_id)
        if found is None:
            raise ResourceNotFoundException.of(
                "GROUP_MEMBERSHIP", membership_id, "GROUP_MEMBERSHIP not found."
            )
        return found

    def membership_id_of(self, store_id: str, group_id: str, user_id: str) -> str:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            found = repos.identity_center.membership_of(group_id, user_id)
        if found is None or found.identity_store_id != store_id:
            raise ResourceNotFoundException.of(
                "GROUP_MEMBERSHIP", None, "GROUP_MEMBERSHIP not found."
            )
        return found.membership_id

    def remove_member(self, store_id: str, membership_id: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            self._store(repos, store_id)
            if not repos.identity_center.delete_membership(store_id, membership_id):
                raise ResourceNotFoundException.of(
                    "GROUP_MEMBERSHIP", membership_id, "GROUP_MEMBERSHIP not found."
                )

    def memberships(
        self,
        store_id: str,
        token: str | None,
        max_results: int | None,
        *,
        group_id: str | None = None,
        user_id: str | None = None,
    ) -> StorePage[GroupMembership]:
        listing = "members" if group_id is not None else "memberships"
        after = after_key(listing, token)
        size = max_results or DEFAULT_PAGE_SIZE
        with self._tx.read() as repos:
            self._store(repos, store_id)
            if group_id is not None:
                _require_group(repos, store_id, group_id)
            if user_id is not None:
                _require_user(repos, store_id, user_id)
            found = repos.identity_center.memberships(
                store_id, after, size + 1, group_id=group_id, user_id=user_id
            )
        return page_of_keys(found, size, listing, lambda membership: membership.membership_id)

    def member_in_groups(
        self, store_id: str, user_id: str, group_ids: Sequence[str]
    ) -> list[tuple[str, bool]]:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            _require_user(repos, store_id, user_id)
            member_of = set(repos.identity_center.group_ids_of(user_id))
        return [(group_id, group_id in member_of) for group_id in group_ids]

    def user_count(self, store_id: str) -> int:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            return repos.identity_center.count_users(store_id)

    def group_count(self, store_id: str) -> int:
        with self._tx.read() as repos:
            self._store(repos, store_id)
            return repos.identity_center.count_groups(store_id)

    # -- the store ---------------------------------------------------------------------

    def _store(self, repos: Repositories, store_id: str) -> Instance:
        instance = repos.identity_center.instance_of_store(store_id)
        if instance is None:
            raise ResourceNotFoundException.of(
                "IDENTITY_STORE", None, f"Identity store {store_id} does not exist."
            )
        if instance.owner_account_id != self._tx.account_id:
            raise IdentityCenterAccessDenied(
                "User is not authorized to perform this action on the identity store."
            )
        return instance


def _require_user(repos: Repositories, store_id: str, user_id: str) -> DirectoryUser:
    found = repos.identity_center.user(store_id, user_id)
    if found is None:
        raise _user_not_found(user_id)
    return found


def _require_group(repos: Repositories, store_id: str, group_id: str) -> DirectoryGroup:
    found = repos.identity_center.group(store_id, group_id)
    if found is None:
        raise _group_not_found(group_id)
    return found


def _user_not_found(user_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException.of("USER", user_id, "USER not found.")


def _group_not_found(group_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException.of("GROUP", group_id, "GROUP not found.")


def _user_with_email(repos: Repositories, store_id: str, email: str) -> DirectoryUser | None:
    after: str | None = None
    wanted = email.lower()
    while True:
        batch = repos.identity_center.users(store_id, after, 500)
        for user in batch:
            for entry in user.attributes.get("Emails", []):
                if isinstance(entry, dict) and str(entry.get("Value", "")).lower() == wanted:
                    return user
        if len(batch) < 500:
            return None
        after = batch[-1].user_id


def _user_with_external_id(
    repos: Repositories, store_id: str, issuer: str, external_id: str
) -> DirectoryUser | None:
    # Indexed by the first external id (the one SCIM sets); others are checked as kept.
    found = repos.identity_center.user_with_external_key(store_id, f"{issuer}\n{external_id}")
    if found is not None and _has_external_id(
        found.attributes.get("ExternalIds"), issuer, external_id
    ):
        return found
    return None


def _group_with_external_id(
    repos: Repositories, store_id: str, issuer: str, external_id: str
) -> DirectoryGroup | None:
    found = repos.identity_center.group_with_external_key(store_id, f"{issuer}\n{external_id}")
    if found is not None and _has_external_id(found.external_ids, issuer, external_id):
        return found
    return None


def _has_external_id(entries: Any, issuer: str, external_id: str) -> bool:
    return isinstance(entries, list) and any(
        isinstance(entry, dict) and entry.get("Issuer") == issuer and entry.get("Id") == external_id
        for entry in entries
    )


def _check_display_name(attributes: Mapping[str, Any]) -> None:
    # AWS refuses a display name of blanks (it is what the portal shows).
    name = attributes.get("DisplayName")
    if name is not None and not str(name).strip():
        raise ValidationError("DisplayName must not be blank.")


def _attribute_path(text: str) -> tuple[str, ...]:
    """A lowerCamel attribute path (`name.givenName`) as the API's member names."""
    parts = tuple(part[:1].upper() + part[1:] for part in text.split(".") if part)
    if not parts or len(parts) > 2:
        raise ValidationError(f"Invalid attribute path: {text}")
    head = parts[0]
    if (
        head != "UserName"
        and head not in USER_ATTRIBUTES
        and head
        not in (
            "DisplayName",
            "Description",
        )
    ):
        raise ValidationError(f"Invalid attribute path: {text}")
    if len(parts) == 2 and parts[1] not in _SUB_ATTRIBUTES.get(head, ()):
        raise ValidationError(f"Invalid attribute path: {text}")
    return parts


def _apply(attributes: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    if len(path) == 1:
        if value is None:
            attributes.pop(path[0], None)
        else:
            attributes[path[0]] = value
        return
    head, member = path
    inner = dict(attributes.get(head) or {})
    if value is None:
        inner.pop(member, None)
    else:
        inner[member] = value
    if inner:
        attributes[head] = inner
    else:
        attributes.pop(head, None)


def _only_filter(filters: Sequence[Mapping[str, str]], path: str) -> str | None:
    if not filters:
        return None
    if len(filters) > 1:
        raise ValidationError("Only one filter is supported.")
    if filters[0].get("AttributePath", "").lower() != path.lower():
        raise ValidationError(f"Invalid filter AttributePath: {filters[0].get('AttributePath')}")
    return filters[0].get("AttributeValue")


def after_key(listing: str, token: str | None) -> str | None:
    if token is None:
        return None
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise ValidationError("The NextToken is invalid.") from None
    prefix, _, rest = text.partition(":")
    name, _, key = rest.partition(":")
    if prefix != _TOKEN_PREFIX or name != listing or not key:
        raise ValidationError("The NextToken is invalid.")
    return key


def page_of_keys(found: list[T], size: int, listing: str, key: Callable[[T], str]) -> StorePage[T]:
    if len(found) <= size:
        return StorePage(found, None)
    items = found[:size]
    raw = f"{_TOKEN_PREFIX}:{listing}:{key(items[-1])}".encode()
    return StorePage(items, base64.urlsafe_b64encode(raw).decode("ascii"))


def page_of_list(
    items: Sequence[T], listing: str, token: str | None, max_results: int | None
) -> StorePage[T]:
    """A page of a list built whole (an instance's assignments, statuses: small lists)."""
    start_text = after_key(listing, token)
    if start_text is not None and not start_text.isdigit():
        raise ValidationError("The NextToken is invalid.")
    start = int(start_text) if start_text is not None else 0
    end = start + (max_results or DEFAULT_PAGE_SIZE)
    chunk = list(items[start:end])
    if end >= len(items):
        return StorePage(chunk, None)
    raw = f"{_TOKEN_PREFIX}:{listing}:{end}".encode()
    return StorePage(chunk, base64.urlsafe_b64encode(raw).decode("ascii"))
