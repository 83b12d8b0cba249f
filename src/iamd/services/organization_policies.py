"""Service control policies of an organization: the SCP policy type of the root,
policies, their attachments to the root, OUs and accounts, and tags on all of these.

As in AWS: enabling SCPs attaches the AWS managed FullAWSAccess (p-FullAWSAccess) to
the root, every OU and every account, and new OUs and accounts get it too; disabling
them detaches every SCP. Every target keeps at least one SCP (detaching the last is
ConstraintViolationException MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED), at most 10
(MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED; AWS raised the quota from 5 to 10 in May
2026). Documents are at most 5,120 characters, whitespace included
(POLICY_CONTENT_LIMIT_EXCEEDED), and follow the IAM policy grammar without Principal
or NotPrincipal (MalformedPolicyDocumentException): the engine's identity-policy check
refuses exactly those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from iamd.clock import Clock
from iamd.errors import (
    ConstraintViolationException,
    DuplicatePolicyAttachmentException,
    DuplicatePolicyException,
    InvalidInputException,
    MalformedPolicyDocumentException,
    PolicyInUseException,
    PolicyNotAttachedException,
    PolicyNotFoundException,
    PolicyTypeAlreadyEnabledException,
    PolicyTypeNotEnabledException,
    RootNotFoundException,
    TargetNotFoundException,
)
from iamd.model.organizations import (
    FULL_AWS_ACCESS,
    FULL_AWS_ACCESS_ID,
    FULL_AWS_ACCESS_NAME,
    SERVICE_CONTROL_POLICY,
    Organization,
    OrganizationPolicy,
)
from iamd.policy import PolicyKind, check_policy
from iamd.services import organization_ids
from iamd.services.organization_paging import OrgPage, page_of
from iamd.services.organization_tags import MAX_TAGS, check_keys, check_tags, too_many_tags
from iamd.services.organizations import OrganizationsService
from iamd.store.transactions import NO_CREDENTIALS, Repositories, Transactions

MAX_SCP_CHARACTERS = 5120
MAX_SCPS_PER_TARGET = 10
MAX_POLICIES = 1000


@dataclass(frozen=True, slots=True)
class PolicyTarget:
    target_id: str
    arn: str
    name: str
    target_type: str  # ROOT, ORGANIZATIONAL_UNIT or ACCOUNT


def check_scp_document(content: str) -> None:
    """Refuse an SCP AWS would refuse: too long, or not a policy of SCP grammar."""
    if len(content) > MAX_SCP_CHARACTERS:
        raise ConstraintViolationException.because(
            "POLICY_CONTENT_LIMIT_EXCEEDED", "You have exceeded the maximum policy size."
        )
    # AWS's SCP grammar: Effect, Action/NotAction, Resource/NotResource, Condition, and
    # no Principal or NotPrincipal. Its size problem is the one answered above.
    problems = check_policy(content, PolicyKind.SCP)
    if any(problem.kind == "error" for problem in problems):
        raise MalformedPolicyDocumentException()


def _only_scp(policy_type: str) -> None:
    if policy_type != SERVICE_CONTROL_POLICY:
        raise InvalidInputException.because(
            "INVALID_ENUM_POLICY_TYPE",
            f"iamd serves policies of type {SERVICE_CONTROL_POLICY} only, not {policy_type}.",
        )


class OrganizationPolicyService:
    def __init__(self, tx: Transactions, clock: Clock, organizations: OrganizationsService) -> None:
        self._tx = tx
        self._clock = clock
        self._orgs = organizations

    # -- the policy type ---------------------------------------------------------------

    def enable_policy_type(
        self, caller_account: str, root_id: str, policy_type: str
    ) -> Organization:
        _only_scp(policy_type)
        now = self._clock.now()
        with self._tx.write() as repos:
            org = self._orgs.managed(repos, caller_account)
            if root_id != org.root_id:
                raise RootNotFoundException()
            if org.scp_enabled:
                raise PolicyTypeAlreadyEnabledException()
            repos.organizations.set_scp_enabled(org.organization_id, True)
            targets = [
                org.root_id,
                *(ou.ou_id for ou in repos.organizations.ous(org.organization_id)),
                *(m.account_id for m in repos.organizations.members(org.organization_id)),
            ]
            for target in targets:
                repos.organizations.attach(org.organization_id, FULL_AWS_ACCESS_ID, target, now)
        return _with_scp(org, True)

    def disable_policy_type(
        self, caller_account: str, root_id: str, policy_type: str
    ) -> Organization:
        _only_scp(policy_type)
        with self._tx.write() as repos:
            org = self._orgs.managed(repos, caller_account)
            if root_id != org.root_id:
                raise RootNotFoundException()
            if not org.scp_enabled:
                raise PolicyTypeNotEnabledException()
            repos.organizations.set_scp_enabled(org.organization_id, False)
            repos.organizations.detach_all(org.organization_id)
        return _with_scp(org, False)

    # -- policies ----------------------------------------------------------------------

    def _policy(self, repos: Repositories, org: Organization, policy_id: str) -> OrganizationPolicy:
        if policy_id == FULL_AWS_ACCESS_ID:
            return FULL_AWS_ACCESS
        policy = repos.organizations.policy(org.organization_id, policy_id)
        if policy is None:
            raise PolicyNotFoundException()
        return policy

    def create_policy(
        self,
        caller_account: str,
        name: str,
        description: str,
        content: str,
        policy_type: str,
        tags: Mapping[str, str],
    ) -> tuple[Organization, OrganizationPolicy]:
        _only_scp(policy_type)
        check_scp_document(content)
        check_tags(tags)
        policy = OrganizationPolicy(
            organization_ids.policy_id(), policy_type, name, description, content, False
        )
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            org = self._orgs.managed(repos, caller_account)
            if name == FULL_AWS_ACCESS_NAME or repos.organizations.policy_named(
                org.organization_id, name
            ):
                raise DuplicatePolicyException()
            if repos.organizations.count_policies(org.organization_id) >= MAX_POLICIES:
                raise ConstraintViolationException.because(
                    "POLICY_NUMBER_LIMIT_EXCEEDED",
                    "You attempted to exceed the number of policies that you can have in an "
                    "organization.",
                )
            repos.organizations.add_policy(org.organization_id, policy, self._clock.now())
            if tags:
                repos.organizations.put_tags(org.organization_id, policy.policy_id, tags)
        return org, policy

    def describe_policy(
        self, caller_account: str, policy_id: str
    ) -> tuple[Organization, OrganizationPolicy]:
        with self._tx.read() as repos:
            org = self._orgs.managed(repos, caller_account)
            return org, self._policy(repos, org, policy_id)

    def update_policy(
        self,
        caller_account: str,
        policy_id: str,
        name: str | None,
        description: str | None,
        content: str | None,
    ) -> tuple[Organization, OrganizationPolicy]:
        if content is not None:
            check_scp_document(content)
        with self._tx.write() as repos:
            org = self._orgs.managed(repos, caller_account)
            current = self._policy(repos, org, policy_id)
            if current.aws_managed:
                raise _immutable()
            renamed = name is not None and name != current.name
            if renamed and (
                name == FULL_AWS_ACCESS_NAME
                or repos.organizations.policy_named(org.organization_id, str(name))
            ):
                raise DuplicatePolicyException()
            updated = OrganizationPolicy(
                current.policy_id,
                current.policy_type,
                current.name if name is None else name,
                current.description if description is None else description,
                current.content if content is None else content,
                False,
            )
            repos.organizations.update_policy(updated)
        return org, updated

    def delete_policy(self, caller_account: str, policy_id: str) -> None:
        with self._tx.write() as repos:
            org = self._orgs.managed(repos, caller_account)
            policy = self._policy(repos, org, policy_id)
            if policy.aws_managed:
                raise _immutable()
            if repos.organizations.targets_of(policy_id, org.organization_id):
                raise PolicyInUseException()
            repos.organizations.drop_tags(policy_id)
            repos.organizations.delete_policy(policy_id)

    def list_policies(
        self, caller_account: str, policy_type: str, token: str | None, max_results: int | None
    ) -> tuple[Organization, OrgPage[OrganizationPolicy]]:
        with self._tx.read() as repos:
            org = self._orgs.managed(repos, caller_account)
            policies: list[OrganizationPolicy] = []
            if policy_type == SERVICE_CONTROL_POLICY:
                policies = [
                    FULL_AWS_ACCESS,
                    *repos.organizations.policies(org.organization_id, policy_type),
                ]
        return org, page_of(policies, "policies:" + policy_type, token, max_results)

    # -- attachments -------------------------------------------------------------------

    def _target(self, repos: Repositories, org: Organization, target_id: str) -> PolicyTarget:
        if target_id == org.root_id:
            return PolicyTarget(target_id, org.root_arn(), "Root", "ROOT")
        if target_id.startswith("ou-"):
            ou = repos.organizations.ou(target_id)
            if ou is not None and ou.organization_id == org.organization_id:
                return PolicyTarget(
                    target_id, org.ou_arn(target_id), ou.name, "ORGANIZATIONAL_UNIT"
                )
        elif target_id.isdigit():
            member = repos.organizations.member(target_id)
            if member is not None and member.organization_id == org.organization_id:
                return PolicyTarget(target_id, org.account_arn(target_id), "", "ACCOUNT")
        raise TargetNotFoundException()

    def attach_policy(self, caller_account: str, policy_id: str, target_id: str) -> None:
        with self._tx.write() as repos:
            org = self._orgs.managed(repos, caller_account)
            self._policy(repos, org, policy_id)
            self._target(repos, org, target_id)
            if not org.scp_enabled:
                raise PolicyTypeNotEnabledException()
            attached = repos.organizations.policies_of(target_id)
            if policy_id in attached:
                raise DuplicatePolicyAttachmentException()
            if len(attached) >= MAX_SCPS_PER_TARGET:
                raise ConstraintViolationException.because(
                    "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    "You attempted to exceed the number of policies of a certain type that can "
                    "be attached to an entity at one time.",
                )
            repos.organizations.attach(org.organization_id, policy_id, target_id, self._clock.now())

    def detach_policy(self, caller_account: str, policy_id: str, target_id: str) -> None:
        with self._tx.write() as repos:
            org = self._orgs.managed(repos, caller_account)
            self._policy(repos, org, policy_id)
            self._target(repos, org, target_id)
            if not org.scp_enabled:
                raise PolicyTypeNotEnabledException()
            attached = repos.organizations.policies_of(target_id)
            if policy_id not in attached:
                raise PolicyNotAttachedException()
            if len(attached) == 1:
                raise ConstraintViolationException.because(
                    "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    "You attempted to detach a policy from an entity that would cause the "
                    "entity to have fewer than the minimum number of policies of a certain "
                    "type required.",
                )
            repos.organizations.detach(policy_id, target_id)

    def list_policies_for_target(
        self,
        caller_account: str,
        target_id: str,
        policy_type: str,
        token: str | None,
        max_results: int | None,
    ) -> tuple[Organization, OrgPage[OrganizationPolicy]]:
        with self._tx.read() as repos:
            org = self._orgs.managed(repos, caller_account)
            self._target(repos, org, target_id)
            policies: list[OrganizationPolicy] = []
            if policy_type == SERVICE_CONTROL_POLICY:
                policies = [
                    self._policy(repos, org, p) for p in repos.organizations.policies_of(target_id)
                ]
        listing = f"policies-for-target:{target_id}:{policy_type}"
        return org, page_of(policies, listing, token, max_results)

    def list_targets_for_policy(
        self, caller_account: str, policy_id: str, token: str | None, max_results: int | None
    ) -> OrgPage[PolicyTarget]:
        with self._tx.read() as repos:
            org = self._orgs.managed(repos, caller_account)
            self._policy(repos, org, policy_id)
            targets = [
                self._target(repos, org, t)
                for t in repos.organizations.targets_of(policy_id, org.organization_id)
            ]
        named = []
        for target in targets:
            if target.target_type == "ACCOUNT":
                account = self._orgs.describe_account(caller_account, target.target_id).account
                name = (account.name if account is not None else None) or target.target_id
                named.append(PolicyTarget(target.target_id, target.arn, name, "ACCOUNT"))
            else:
                named.append(target)
        return page_of(named, "targets-for-policy:" + policy_id, token, max_results)

    # -- tags --------------------------------------------------------------------------

    def _taggable(self, repos: Repositories, org: Organization, resource_id: str) -> None:
        if resource_id.startswith("p-"):
            if (
                resource_id == FULL_AWS_ACCESS_ID
                or repos.organizations.policy(org.organization_id, resource_id) is None
            ):
                raise TargetNotFoundException()
            return
        self._target(repos, org, resource_id)

    def tag_resource(self, caller_account: str, resource_id: str, tags: Mapping[str, str]) -> None:
        check_tags(tags)
        with self._tx.write() as repos:
            org = self._orgs.managed(repos, caller_account)
            self._taggable(repos, org, resource_id)
            current = dict(repos.organizations.tags(resource_id))
            current.update(tags)
            if len(current) > MAX_TAGS:
                raise too_many_tags()
            repos.organizations.put_tags(org.organization_id, resource_id, tags)

    def untag_resource(self, caller_account: str, resource_id: str, keys: Iterable[str]) -> None:
        keys = list(keys)
        check_keys(keys)
        with self._tx.write() as repos:
            org = self._orgs.managed(repos, caller_account)
            self._taggable(repos, org, resource_id)
            repos.organizations.remove_tags(resource_id, keys)

    def list_tags(
        self, caller_account: str, resource_id: str, token: str | None
    ) -> OrgPage[tuple[str, str]]:
        with self._tx.read() as repos:
            org = self._orgs.managed(repos, caller_account)
            self._taggable(repos, org, resource_id)
            tags = repos.organizations.tags(resource_id)
        return page_of(tags, "tags:" + resource_id, token, MAX_TAGS)


def _with_scp(org: Organization, enabled: bool) -> Organization:
    return Organization(
        org.organization_id,
        org.management_account_id,
        org.feature_set,
        org.root_id,
        enabled,
        org.create_date,
    )


def _immutable() -> InvalidInputException:
    return InvalidInputException.because(
        "IMMUTABLE_POLICY",
        "You specified a policy that is managed by AWS and can't be modified.",
    )
