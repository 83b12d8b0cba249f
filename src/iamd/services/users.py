"""IAM users: create, read, list, rename, delete, tag."""

from __future__ import annotations

from collections.abc import Sequence

from iamd.clock import Clock
from iamd.errors import DeleteConflict, LimitExceeded, NoSuchEntity, ValidationError
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import Tag, User, UserHandle, iam_arn
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.principals.caller import Caller
from iamd.services.permissions_boundaries import require_boundary_policy
from iamd.services.roles import follow_principal, forget_principal
from iamd.services.tagging import ResourceTags, TaggedKind, check_tag_count
from iamd.store.read_cache import ReadThrough
from iamd.store.schema import user_tags
from iamd.store.schema import users as users_table
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

# What DeleteUser reports when something still hangs off the user, in AWS's order.
_DELETE_CONFLICTS = {
    "login profile": DeleteConflict.LOGIN_PROFILE,
    "access keys": DeleteConflict.ACCESS_KEYS,
    "signing certificates": DeleteConflict.SIGNING_CERTIFICATES,
    "ssh public keys": DeleteConflict.SSH_PUBLIC_KEYS,
    "service specific credentials": DeleteConflict.SERVICE_SPECIFIC_CREDENTIALS,
    "mfa devices": DeleteConflict.MFA_DEVICES,
    "policies": DeleteConflict.INLINE_POLICIES,
    "attached policies": DeleteConflict.ATTACHED_POLICIES,
    "groups": DeleteConflict.GROUP_MEMBERSHIPS,
}


def require_user(repos: Repositories, name: str, *, for_update: bool = False) -> User:
    user = repos.users.get_by_name(name, for_update=for_update)
    if user is None:
        raise NoSuchEntity.user(name)
    return user


def lock_user(repos: Repositories, name: str) -> UserHandle:
    """The user a credential write hangs off, its row locked for the write's quota check."""
    user = repos.users.handle_by_name(name, for_update=True)
    if user is None:
        raise NoSuchEntity.user(name)
    return user


def target_user_name(caller: Caller, user_name: str | None) -> str:
    """The user an implicit-caller operation is about: the one named, or the caller."""
    if user_name is not None:
        return user_name
    if caller.user is None:
        # A role session has no user to default to (AWS's answer).
        raise ValidationError("Must specify userName when calling with non-User credentials")
    return caller.user.name


_TAGS: TaggedKind[User] = TaggedKind(
    find=lambda repos, name, for_update: require_user(repos, name, for_update=for_update),
    tags_of=lambda user: user.tags,
    owner_id=lambda user: user.user_id,
    repository=lambda repos: repos.users.tags,
)


class UserService:
    def __init__(self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas
        self.tags = ResourceTags(tx, _TAGS, quotas.tags_per_resource)
        # A user is its row and its tags (store/sql/users.py).
        read_from = (users_table.name, user_tags.name)
        self._by_name: ReadThrough[str, User] = ReadThrough(
            tx, 20_000, name="users_by_name", tables=read_from
        )
        self._pages: ReadThrough[tuple[str, str | None, int], Page[User]] = ReadThrough(
            tx, 512, name="user_pages", tables=read_from
        )

    def create(
        self,
        name: str,
        path: str,
        tags: Sequence[Tag] = (),
        permissions_boundary_arn: str | None = None,
    ) -> User:
        # A new user: no cached credential can depend on it.
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            repos.account.lock("users")
            if permissions_boundary_arn is not None:
                require_boundary_policy(repos, permissions_boundary_arn)
            if repos.users.count() >= self._quotas.users:
                raise LimitExceeded.quota("UsersPerAccount", self._quotas.users)
            check_tag_count((), tags, self._quotas.tags_per_resource)
            user = User(
                user_id=self._ids.entity_id(IdPrefix.USER),
                name=name,
                path=path,
                arn=iam_arn(self._tx.account_id, "user", path, name),
                create_date=self._clock.now(),
                permissions_boundary_arn=permissions_boundary_arn,
                tags=tuple(tags),
            )
            repos.users.add(user)
            return user

    def get(self, name: str) -> User:
        def load() -> User:
            with self._tx.read() as repos:
                return require_user(repos, name)

        return self._by_name.get(name.lower(), load)

    def listing(self, path_prefix: str, marker: str | None, max_items: int) -> Page[User]:
        def load() -> Page[User]:
            with self._tx.read() as repos:
                return repos.users.listing(path_prefix, marker, max_items)

        return self._pages.get((path_prefix, marker, max_items), load)

    def update(self, name: str, new_name: str | None, new_path: str | None) -> None:
        with self._tx.write() as repos:
            user = require_user(repos, name, for_update=True)
            repos.users.rename(user.user_id, new_name, new_path)
            renamed = iam_arn(
                self._tx.account_id, "user", new_path or user.path, new_name or user.name
            )
            follow_principal(repos, user.arn, renamed)

    def delete(self, name: str) -> None:
        with self._tx.write() as repos:
            user = require_user(repos, name, for_update=True)
            conflicts = repos.users.dependents(user.user_id)
            if conflicts:
                raise DeleteConflict(_DELETE_CONFLICTS[conflicts[0]])
            repos.users.delete(user.user_id)
            forget_principal(repos, user.arn, user.user_id)
