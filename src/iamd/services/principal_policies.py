"""Loading and compiling the policies that govern a principal.

For an IAM user: its inline policies, the managed policies attached to it, and the
inline and attached policies of each of its groups (identity policies), plus its
permissions boundary when one is set. Compiled policies are cached by document text,
which never changes meaning, so a policy attached to many users compiles once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from iamd.model import User
from iamd.policy import CompiledPolicy, PolicyKind, compile_policy
from iamd.services.cache import BoundedCache
from iamd.services.transactions import Repositories
from iamd.store.schema import group_policy_attachments, user_policy_attachments


@dataclass(frozen=True, slots=True)
class PrincipalPolicies:
    identity: tuple[CompiledPolicy, ...]
    # None when no boundary is set; a boundary whose policy is gone allows nothing.
    boundary: tuple[CompiledPolicy, ...] | None


class PolicyCompiler:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._compiled: BoundedCache[tuple[str, str, str], CompiledPolicy] = BoundedCache(
            max_entries
        )

    def compile(self, document: str, kind: PolicyKind, source_id: str) -> CompiledPolicy:
        key = (source_id, kind.value, hashlib.sha256(document.encode()).hexdigest())
        found = self._compiled.get(key)
        if found is None:
            found = compile_policy(document, kind, source_id)
            self._compiled.put(key, found, self._compiled.generation)
        return found

    def for_user(self, repos: Repositories, user: User) -> PrincipalPolicies:
        sources: list[tuple[str, str]] = [
            (p.name, p.document) for p in repos.user_inline_policies.all(user.user_id)
        ]
        sources += repos.policies.attached_documents(
            user_policy_attachments, "user_id", user.user_id
        )
        for group_id in repos.groups.group_ids_of_user(user.user_id):
            sources += [(p.name, p.document) for p in repos.group_inline_policies.all(group_id)]
            sources += repos.policies.attached_documents(
                group_policy_attachments, "group_id", group_id
            )
        identity = tuple(
            self.compile(document, PolicyKind.IDENTITY, source) for source, document in sources
        )
        boundary: tuple[CompiledPolicy, ...] | None = None
        if user.permissions_boundary_arn:
            document = repos.policies.document_of(user.permissions_boundary_arn)
            boundary = (
                (self.compile(document, PolicyKind.BOUNDARY, user.permissions_boundary_arn),)
                if document is not None
                else ()
            )
        return PrincipalPolicies(identity, boundary)
