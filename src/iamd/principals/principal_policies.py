"""Loading and compiling the policies that govern a principal: one loader for both
enforcement and the policy simulator, so the two can never disagree.

For an IAM user: its inline policies, the managed policies attached to it, and the
inline and attached policies of each of its groups (identity policies), plus its
permissions boundary when one is set. For a role: its inline and attached policies and
its boundary (what its sessions may do). A principal of an account that service control
policies restrict also carries the compiled SCPs of each level (`scps`; None: not
restricted, the case without an organization, which costs evaluation nothing). Each
compiled policy's source id carries its SourcePolicyType (`user`, `group`,
`aws-managed`, `user-managed`...) and its name, as the simulator reports them. Compiled
policies are cached by document text, which never changes meaning, so a policy attached
to many users compiles once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from iamd.model import Role, User
from iamd.model.arn import split_policy_arn
from iamd.model.owners import OwnerKind
from iamd.policy import CompiledPolicy, PolicyKind, compile_policy, context_keys_of
from iamd.principals.organization_policies import (
    NoOrganization,
    OrganizationPolicySource,
    OrgFacts,
)
from iamd.store.cache import BoundedCache
from iamd.store.owners import attachments_table, inline_policies_of
from iamd.store.transactions import Repositories

AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"
# Joins a source's type and name in a compiled policy's source id.
_TYPE_SEPARATOR = "\x1f"

#: Compiled SCP levels: root first, then each OU, then the account.
CompiledScps = tuple[tuple[CompiledPolicy, ...], ...]


def typed_source(source_type: str, source_id: str) -> str:
    return f"{source_type}{_TYPE_SEPARATOR}{source_id}"


def split_source(source: str) -> tuple[str, str]:
    """(SourcePolicyType, SourcePolicyId) of a compiled policy's source id."""
    source_type, sep, source_id = source.partition(_TYPE_SEPARATOR)
    return (source_type, source_id) if sep else ("none", source)


@dataclass(frozen=True, slots=True)
class PrincipalPolicies:
    identity: tuple[CompiledPolicy, ...]
    # None when no boundary is set; a boundary whose policy is gone allows nothing.
    boundary: tuple[CompiledPolicy, ...] | None

    # Whether any condition reads `aws:ResourceTag/*` or `iam:ResourceTag/*`: looking up
    # the tags of a request's target costs a query, done only when a policy can use them.
    uses_resource_tags: bool
    # Session policies of an STS role session (None: none were passed); a request must
    # be allowed by them too.
    session: tuple[CompiledPolicy, ...] | None = None
    # The service control policies of each level that restrict the principal's account
    # (None: not restricted: no organization, or the management account).
    scps: CompiledScps | None = None

    @classmethod
    def of(
        cls,
        identity: Sequence[CompiledPolicy],
        boundary: Sequence[CompiledPolicy] | None,
        session: Sequence[CompiledPolicy] | None = None,
        scps: CompiledScps | None = None,
    ) -> PrincipalPolicies:
        every = [*identity, *(boundary or ()), *(session or ())]
        for level in scps or ():
            every += level
        keys = context_keys_of(every)
        return cls(
            tuple(identity),
            None if boundary is None else tuple(boundary),
            any(k.lower().startswith(("aws:resourcetag/", "iam:resourcetag/")) for k in keys),
            None if session is None else tuple(session),
            scps,
        )

    def with_session(self, session: Sequence[CompiledPolicy] | None) -> PrincipalPolicies:
        """These policies, further limited by an STS session's policies."""
        if session is None:
            return self
        return PrincipalPolicies.of(self.identity, self.boundary, session, self.scps)

    def restricted_by(self, scps: CompiledScps | None) -> PrincipalPolicies:
        """These policies, further limited by the service control policies of the
        principal's account (None: not restricted, these policies as they are)."""
        if scps is None:
            return self
        return PrincipalPolicies.of(self.identity, self.boundary, self.session, scps)


SCP_SOURCE = typed_source("scp", "service control policy")


class PolicyCompiler:
    def __init__(
        self, max_entries: int = 10_000, organization: OrganizationPolicySource | None = None
    ) -> None:
        self._compiled: BoundedCache[tuple[str, str, str], CompiledPolicy] = BoundedCache(
            max_entries, name="compiled_policies"
        )
        self._organization: OrganizationPolicySource = organization or NoOrganization()

    def use_organization(self, source: OrganizationPolicySource) -> None:
        """Where SCPs and organization facts come from (set once, at wiring: the
        Organizations service is built after the compiler it depends on)."""
        self._organization = source

    def scps_for(self, account_id: str) -> CompiledScps | None:
        """The compiled SCPs of each level restricting `account_id`, or None when none do.

        Documents are compiled through the same cache as every policy (keyed by text),
        so an SCP attached at the root compiles once for all accounts. Call it outside
        a read transaction: the source may open its own.
        """
        levels = self._organization.scp_levels(account_id)
        if levels is None:
            return None
        return tuple(
            tuple(self.compile(document, PolicyKind.SCP, SCP_SOURCE) for document in level)
            for level in levels
        )

    def org_facts(self, account_id: str) -> OrgFacts | None:
        """The organization id and paths of `account_id`, None outside an organization."""
        return self._organization.org_facts(account_id)

    def compile(self, document: str, kind: PolicyKind, source_id: str) -> CompiledPolicy:
        key = (source_id, kind.value, hashlib.sha256(document.encode()).hexdigest())
        found = self._compiled.get(key)
        if found is None:
            found = compile_policy(document, kind, source_id)
            self._compiled.put(key, found, self._compiled.generation)
        return found

    def for_user(self, repos: Repositories, user: User) -> PrincipalPolicies:
        identity = self._owned(repos, OwnerKind.USER, user.user_id)
        for group_id in repos.groups.group_ids_of_user(user.user_id):
            identity += self.for_group(repos, group_id)
        return PrincipalPolicies.of(identity, self._boundary(repos, user.permissions_boundary_arn))

    def for_session(
        self, repos: Repositories, inline: str | None, policy_arns: Sequence[str]
    ) -> tuple[CompiledPolicy, ...] | None:
        """The session policies passed to AssumeRole, or None when none were.

        Managed session policies are read as they are now; one deleted since the
        session began allows nothing (the session still has policies, so the
        intersection fails closed).
        """
        if inline is None and not policy_arns:
            return None
        compiled: list[CompiledPolicy] = []
        if inline is not None:
            source = typed_source("none", "session")
            compiled.append(self.compile(inline, PolicyKind.SESSION, source))
        for arn in policy_arns:
            document = repos.policies.document_of(arn)
            if document is not None:
                compiled += self._managed([(arn, document)], PolicyKind.SESSION)
        return tuple(compiled)

    def for_group(self, repos: Repositories, group_id: str) -> list[CompiledPolicy]:
        return self._owned(repos, OwnerKind.GROUP, group_id)

    def for_role(self, repos: Repositories, role: Role) -> PrincipalPolicies:
        """The role's inline and attached policies, and its boundary: what a session of
        the role may do (before any session policy)."""
        identity = self._owned(repos, OwnerKind.ROLE, role.role_id)
        return PrincipalPolicies.of(identity, self._boundary(repos, role.permissions_boundary_arn))

    def _owned(self, repos: Repositories, kind: OwnerKind, owner_id: str) -> list[CompiledPolicy]:
        """An owner's inline policies (typed `user`, `group`, `role`) and attached ones."""
        policies = [
            self.compile(p.document, PolicyKind.IDENTITY, typed_source(kind.value, p.name))
            for p in inline_policies_of(repos, kind).all(owner_id)
        ]
        policies += self._managed(
            repos.policies.attached_documents(attachments_table(kind), kind.owner_column, owner_id),
            PolicyKind.IDENTITY,
        )
        return policies

    def _boundary(self, repos: Repositories, arn: str | None) -> tuple[CompiledPolicy, ...] | None:
        if not arn:
            return None
        document = repos.policies.document_of(arn)
        if document is None:
            return ()  # a boundary whose policy is gone allows nothing
        return tuple(self._managed([(arn, document)], PolicyKind.BOUNDARY))

    def _managed(
        self, sources: Sequence[tuple[str, str]], kind: PolicyKind
    ) -> list[CompiledPolicy]:
        """Managed policies are named by their policy name, typed aws- or user-managed."""
        compiled = []
        for arn, document in sources:
            split = split_policy_arn(arn)
            name = split[2] if split else arn
            source_type = "aws-managed" if arn.startswith(AWS_MANAGED_PREFIX) else "user-managed"
            compiled.append(self.compile(document, kind, typed_source(source_type, name)))
        return compiled
