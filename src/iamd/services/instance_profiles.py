"""Instance profiles: create, read, list, delete, tag, and the one role each may hold.

AWS's rules: names unique per account ignoring case (`Instance Profile X already
exists.`), at most `instance_profiles` per account (InstanceProfilesPerAccount), at most
one role per profile (`Cannot exceed quota for InstanceRolesPerInstanceProfile: 1`), a
profile holding a role cannot be deleted and neither can the role (DeleteConflict
"must remove roles from instance profile first."), and a service-linked role cannot be
put in or taken out of one (UnmodifiableEntity, in the model's errors of both calls).
"""

from __future__ import annotations

from collections.abc import Sequence

from iamd.clock import Clock
from iamd.errors import DeleteConflict, LimitExceeded, NoSuchEntity
from iamd.ids import IdGenerator, IdPrefix
from iamd.model import Tag, iam_arn
from iamd.model.instance_profiles import InstanceProfile
from iamd.model.page import Page
from iamd.model.quotas import Quotas
from iamd.services.roles import require_changeable, require_role
from iamd.services.tagging import ResourceTags, TaggedKind, check_tag_count
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

ROLES_PER_INSTANCE_PROFILE = 1


def require_instance_profile(
    repos: Repositories, name: str, *, for_update: bool = False
) -> InstanceProfile:
    profile = repos.instance_profiles.get_by_name(name, for_update=for_update)
    if profile is None:
        raise NoSuchEntity.instance_profile(name)
    return profile


_TAGS: TaggedKind[InstanceProfile] = TaggedKind(
    find=lambda repos, name, for_update: require_instance_profile(
        repos, name, for_update=for_update
    ),
    tags_of=lambda profile: profile.tags,
    owner_id=lambda profile: profile.instance_profile_id,
    repository=lambda repos: repos.instance_profiles.tags,
    # No credential's policies depend on an instance profile's tags.
    credentials=NO_CREDENTIALS,
)


class InstanceProfileService:
    def __init__(self, tx: Transactions, clock: Clock, ids: IdGenerator, quotas: Quotas) -> None:
        self._tx = tx
        self._clock = clock
        self._ids = ids
        self._quotas = quotas
        self.tags = ResourceTags(tx, _TAGS, quotas.tags_per_resource)

    def create(self, name: str, path: str, tags: Sequence[Tag] = ()) -> InstanceProfile:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            # Serialises creations, so the quota holds under concurrent requests.
            repos.account.lock("instance_profiles")
            if repos.instance_profiles.count() >= self._quotas.instance_profiles:
                raise LimitExceeded.quota(
                    "InstanceProfilesPerAccount", self._quotas.instance_profiles
                )
            check_tag_count((), tags, self._quotas.tags_per_resource)
            profile = InstanceProfile(
                instance_profile_id=self._ids.entity_id(IdPrefix.INSTANCE_PROFILE),
                name=name,
                path=path,
                arn=iam_arn(self._tx.account_id, "instance-profile", path, name),
                create_date=self._clock.now(),
                tags=tuple(tags),
            )
            repos.instance_profiles.add(profile)
            return profile

    def get(self, name: str) -> InstanceProfile:
        with self._tx.read() as repos:
            return require_instance_profile(repos, name)

    def listing(
        self, path_prefix: str, marker: str | None, max_items: int
    ) -> Page[InstanceProfile]:
        with self._tx.read() as repos:
            return repos.instance_profiles.listing(path_prefix, marker, max_items)

    def for_role(self, role_name: str, marker: str | None, max_items: int) -> Page[InstanceProfile]:
        with self._tx.read() as repos:
            role = require_role(repos, role_name)
            return repos.instance_profiles.listing("/", marker, max_items, role_id=role.role_id)

    def delete(self, name: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            profile = require_instance_profile(repos, name, for_update=True)
            if profile.roles:
                raise DeleteConflict(DeleteConflict.INSTANCE_PROFILES)
            repos.instance_profiles.delete(profile.instance_profile_id)

    def add_role(self, name: str, role_name: str) -> None:
        # Credentials of the role's sessions do not change: EC2 would merely hand them out.
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            profile = require_instance_profile(repos, name, for_update=True)
            role = require_changeable(require_role(repos, role_name))
            if len(profile.roles) >= ROLES_PER_INSTANCE_PROFILE:
                raise LimitExceeded.quota(
                    "InstanceRolesPerInstanceProfile", ROLES_PER_INSTANCE_PROFILE
                )
            repos.instance_profiles.add_role(
                profile.instance_profile_id, role.role_id, self._clock.now()
            )

    def remove_role(self, name: str, role_name: str) -> None:
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            profile = require_instance_profile(repos, name, for_update=True)
            role = require_changeable(require_role(repos, role_name))
            if all(held.role_id != role.role_id for held in profile.roles):
                # [I] AWS's message for a role that exists but is not in the profile is
                # not documented; this is its message for a role it cannot find.
                raise NoSuchEntity.named("role", role_name)
            repos.instance_profiles.remove_role(profile.instance_profile_id, role.role_id)
