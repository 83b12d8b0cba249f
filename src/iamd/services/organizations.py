"""AWS Organizations: the organization, its root, accounts, OUs and CreateAccount.

The account that calls CreateOrganization becomes the organization's management
account; only it may call the management operations (a member account gets
AccessDeniedException, an account outside any organization
AWSOrganizationsNotInUseException). Membership is kept in this service's tables; the
accounts' own records are the `AccountDirectory`'s (services/account_directory.py).

CreateAccount is asynchronous, as in AWS: the request is stored IN_PROGRESS and
answered at once; a background thread creates the account through the directory,
provisions its access role (OrganizationAccountAccessRole, or the RoleName given,
trusting the management account) and marks the request SUCCEEDED, or FAILED with AWS's
FailureReason (EMAIL_ALREADY_EXISTS ...). A request its node left IN_PROGRESS (it
stopped in between) is resumed, once it is RESUME_AFTER old, by the next node to start
or to be asked its status: every step can be taken again (the account made for the
request is found by its email, the role is kept, the request completes only once).

OUs cannot form a cycle: the API moves accounts only (MoveAccount), never OUs, and an
OU's parent is fixed when it is created, so every OU's chain of parents ends at the root.

For the policy engine, `scp_levels` and `org_facts` give an account's service control
policies (root, each OU down, the account) and its aws:PrincipalOrgID/OrgPaths; both are
cached and dropped on every committed write, like the other read caches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from iamd.clock import Clock
from iamd.errors import (
    AccountAlreadyClosedException,
    AccountNotFoundException,
    AccountNotManagementOrDelegatedAdministratorException,
    AlreadyInOrganizationException,
    AWSOrganizationsNotInUseException,
    ChildNotFoundException,
    ConstraintViolationException,
    CreateAccountStatusNotFoundException,
    DestinationParentNotFoundException,
    DuplicateAccountException,
    DuplicateOrganizationalUnitException,
    EmailAlreadyTaken,
    InvalidInputException,
    OrganizationalUnitNotEmptyException,
    OrganizationalUnitNotFoundException,
    OrganizationNotEmptyException,
    OrganizationNotFoundException,
    OrganizationNotInAllFeaturesModeException,
    OrganizationsAccessDenied,
    ParentNotFoundException,
    ServiceAccessNotEnabledException,
    SourceParentNotFoundException,
)
from iamd.model.organizations import (
    FULL_AWS_ACCESS_CONTENT,
    FULL_AWS_ACCESS_ID,
    CreateAccountRequest,
    Organization,
    OrganizationalUnit,
    OrganizationMember,
)
from iamd.services import organization_ids
from iamd.services.account_directory import AccountDirectory, DirectoryAccount
from iamd.services.organization_paging import OrgPage, page_of
from iamd.services.organization_tags import check_tags
from iamd.store.read_cache import ReadThrough
from iamd.store.schema import (
    organization_features,
    organization_members,
    organization_policies,
    organization_policy_attachments,
    organizational_units,
    organizations,
)
from iamd.store.transactions import ALL_CREDENTIALS, NO_CREDENTIALS, Repositories, Transactions

log = logging.getLogger("iamd.organizations")

DEFAULT_ACCESS_ROLE = "OrganizationAccountAccessRole"
# AWS's quotas: OUs nest at most five levels under the root; 1,000 OUs per organization.
MAX_OU_DEPTH = 5
MAX_OUS = 1000
# What an account's organization, place and SCPs are read from (the caches below).
_ORGANIZATION_TABLES = tuple(
    table.name
    for table in (
        organizations,
        organization_members,
        organizational_units,
        organization_policies,
        organization_policy_attachments,
        organization_features,
    )
)
_RESERVED_ROLE_PREFIX = "AWSServiceRoleFor"
# Kinds of organization_features rows, and IAM's centralized root access features.
_SERVICE = "service"
_IAM = "iam"
IAM_PRINCIPAL = "iam.amazonaws.com"
ROOT_FEATURES = ("RootCredentialsManagement", "RootSessions")
# Why AssumeRoot refuses (AccessDenied); AWS does not document its texts: these are
# iamd's, each naming the rule that refused.
NOT_MANAGEMENT = (
    "AssumeRoot must be called with credentials of the organization's management account"
)
ROOT_SESSIONS_OFF = "Centralized root access (RootSessions) is not enabled for the organization"
NOT_A_MEMBER = "The TargetPrincipal is not an active member account of your organization"

#: Schedules a callable on a background thread (never the event loop).
Background = Callable[[Callable[[], None]], object]
#: CreateAccount takes well under a second; a request IN_PROGRESS this long was left by a
#: node that stopped in between.
RESUME_AFTER = timedelta(minutes=5)


class OrgFacts(NamedTuple):
    """aws:PrincipalOrgID and aws:PrincipalOrgPaths of an account's principals."""

    org_id: str
    org_paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _AccountFacts:
    facts: OrgFacts
    # None: the management account, or SCPs not enabled.
    scp_levels: tuple[tuple[str, ...], ...] | None


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as DescribeAccount and ListAccounts show it."""

    organization: Organization
    member: OrganizationMember
    account: DirectoryAccount | None

    @property
    def status(self) -> str:
        if self.account is None:
            return "ACTIVE"
        return str(getattr(self.account.status, "value", self.account.status))


class OrganizationsService:
    def __init__(
        self,
        tx: Transactions,
        clock: Clock,
        directory: AccountDirectory,
        background: Background,
    ) -> None:
        self._tx = tx
        self._clock = clock
        self._directory = directory
        self._background = background
        # Requests this node resumes: each once, however often its status is asked.
        self._resuming: set[str] = set()
        self._resuming_lock = threading.Lock()
        # Authorization asks both on every request: a write elsewhere (a key, a user)
        # must not empty them.
        self._facts: ReadThrough[str, tuple[_AccountFacts | None]] = ReadThrough(
            tx, 20_000, name="organization_facts", tables=_ORGANIZATION_TABLES
        )
        self._orgs: ReadThrough[str, tuple[Organization | None]] = ReadThrough(
            tx, 20_000, name="organization_of_account", tables=_ORGANIZATION_TABLES
        )

    # -- who may call ----------------------------------------------------------------

    def managed(self, repos: Repositories, caller_account: str) -> Organization:
        """The organization `caller_account` manages, or AWS's refusal."""
        org = repos.organizations.managed_by(caller_account)
        if org is not None:
            return org
        if repos.organizations.member(caller_account) is not None:
            raise OrganizationsAccessDenied()
        raise AWSOrganizationsNotInUseException()

    def organization_of(self, account_id: str) -> Organization | None:
        """The organization the account belongs to (cached: authorization asks it)."""

        def load() -> tuple[Organization | None]:
            with self._tx.read() as repos:
                member = repos.organizations.member(account_id)
                return (
                    None if member is None else repos.organizations.by_id(member.organization_id),
                )

        return self._orgs.get(account_id, load)[0]

    def resource_arn(self, caller_account: str, resource_id: str | None) -> str:
        """The ARN AWS authorizes an operation on `resource_id` against ("*" without one)."""
        org = self.organization_of(caller_account)
        if org is None:
            return "*"
        if resource_id is None:
            return org.arn
        return org.arn_of(resource_id)

    # -- the organization ------------------------------------------------------------

    def create_organization(self, caller_account: str, feature_set: str | None) -> Organization:
        if feature_set not in (None, "ALL"):
            # iamd serves the all-features organizations SCPs need; AWS would create a
            # consolidated-billing one, which could not hold the SCPs iamd enforces.
            raise InvalidInputException.because(
                "INVALID_ENUM",
                "iamd creates organizations with all features only (FeatureSet ALL); "
                "CONSOLIDATED_BILLING is not available.",
            )
        now = self._clock.now()
        root = organization_ids.root_id()
        org = Organization(
            organization_ids.organization_id(), caller_account, "ALL", root, False, now
        )
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            if repos.organizations.member(caller_account) is not None:
                raise AlreadyInOrganizationException()
            repos.organizations.add(org)
            repos.organizations.add_member(
                OrganizationMember(caller_account, org.organization_id, root, "INVITED", now)
            )
        return org

    def describe_organization(self, caller_account: str) -> Organization:
        # Any account of the organization may describe it.
        with self._tx.read() as repos:
            member = repos.organizations.member(caller_account)
            org = None if member is None else repos.organizations.by_id(member.organization_id)
        if org is None:
            raise AWSOrganizationsNotInUseException()
        return org

    def management_account(self, org: Organization) -> DirectoryAccount | None:
        return self._directory.lookup(org.management_account_id)

    def delete_organization(self, caller_account: str) -> None:
        with self._tx.write() as repos:
            org = self.managed(repos, caller_account)
            if len(repos.organizations.members(org.organization_id)) > 1:
                raise OrganizationNotEmptyException()
            repos.organizations.delete(org.organization_id)

    def list_roots(self, caller_account: str) -> Organization:
        with self._tx.read() as repos:
            return self.managed(repos, caller_account)

    # -- trusted access (EnableAWSServiceAccess ...) ---------------------------------

    def enable_service_access(self, caller_account: str, principal: str) -> None:
        # AWS knows its services' principals; iamd recognizes their form, a service
        # name under amazonaws.com.
        name, _, domain = principal.partition(".")
        if not name or domain != "amazonaws.com":
            raise InvalidInputException.because(
                "UNRECOGNIZED_SERVICE_PRINCIPAL",
                "You specified a service principal that isn't recognized.",
            )
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            org = self.managed(repos, caller_account)
            repos.organizations.enable_feature(org.organization_id, _SERVICE, principal, now)

    def disable_service_access(self, caller_account: str, principal: str) -> None:
        # Root sessions may depend on IAM's trusted access: every credential is rechecked.
        with self._tx.write() as repos:
            org = self.managed(repos, caller_account)
            repos.organizations.disable_feature(org.organization_id, _SERVICE, principal)
            if principal == IAM_PRINCIPAL:
                # Without trusted access IAM's root access features stop, as in AWS.
                for feature in ROOT_FEATURES:
                    repos.organizations.disable_feature(org.organization_id, _IAM, feature)

    def service_access(self, caller_account: str) -> list[tuple[str, datetime]]:
        """The enabled service principals with the date each was enabled."""
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            return repos.organizations.features(org.organization_id, _SERVICE)

    # -- IAM's centralized root access ------------------------------------------------

    def _root_access_org(self, repos: Repositories, caller_account: str) -> Organization:
        """The organization whose root access features `caller_account` may manage, or
        IAM's refusal, checked in AWS's order."""
        member = repos.organizations.member(caller_account)
        org = None if member is None else repos.organizations.by_id(member.organization_id)
        if org is None:
            raise OrganizationNotFoundException()
        if org.feature_set != "ALL":
            raise OrganizationNotInAllFeaturesModeException()
        # iamd has no delegated administrators: only the management account manages.
        if org.management_account_id != caller_account:
            raise AccountNotManagementOrDelegatedAdministratorException()
        enabled = repos.organizations.features(org.organization_id, _SERVICE)
        if IAM_PRINCIPAL not in {name for name, _ in enabled}:
            raise ServiceAccessNotEnabledException()
        return org

    def set_root_feature(
        self, caller_account: str, feature: str, enabled: bool
    ) -> tuple[Organization, list[str]]:
        """Enables or disables one of ROOT_FEATURES; the organization and the features
        enabled after."""
        now = self._clock.now()
        # Disabling RootSessions ends root sessions: every cached credential is rechecked.
        impact = NO_CREDENTIALS if enabled else ALL_CREDENTIALS
        with self._tx.write(credentials=impact) as repos:
            org = self._root_access_org(repos, caller_account)
            if enabled:
                repos.organizations.enable_feature(org.organization_id, _IAM, feature, now)
            else:
                repos.organizations.disable_feature(org.organization_id, _IAM, feature)
            return org, [n for n, _ in repos.organizations.features(org.organization_id, _IAM)]

    def root_features(self, caller_account: str) -> tuple[Organization, list[str]]:
        with self._tx.read() as repos:
            org = self._root_access_org(repos, caller_account)
            return org, [n for n, _ in repos.organizations.features(org.organization_id, _IAM)]

    def root_feature_enabled(self, account_id: str, feature: str) -> bool:
        """Whether the organization `account_id` belongs to has the feature on."""
        with self._tx.read() as repos:
            member = repos.organizations.member(account_id)
            if member is None:
                return False
            names = repos.organizations.features(member.organization_id, _IAM)
            return feature in {n for n, _ in names}

    def root_session_problem(self, caller_account: str, target_account: str) -> str | None:
        """Why `caller_account` may not open a root session in `target_account`
        (AssumeRoot), or None when it may: the caller must be the management account of
        an organization in all-features mode with IAM's trusted access and RootSessions
        on, and the target an open member account of that organization other than the
        management account itself."""
        with self._tx.read() as repos:
            member = repos.organizations.member(caller_account)
            org = None if member is None else repos.organizations.by_id(member.organization_id)
            # iamd has no delegated administrators: only the management account asks.
            if org is None or org.management_account_id != caller_account:
                return NOT_MANAGEMENT
            if org.feature_set != "ALL" or not repos.organizations.root_sessions_enabled(
                org.organization_id
            ):
                return ROOT_SESSIONS_OFF
            target = repos.organizations.member(target_account)
            if (
                target is None
                or target.organization_id != org.organization_id
                or target_account == org.management_account_id
            ):
                return NOT_A_MEMBER
            account = repos.account.get_account(target_account)
            if account is None or account.status != "ACTIVE":
                return NOT_A_MEMBER
        return None

    # -- accounts --------------------------------------------------------------------

    def _view(self, org: Organization, member: OrganizationMember) -> AccountView:
        return AccountView(org, member, self._directory.lookup(member.account_id))

    def _member_of(
        self, repos: Repositories, org: Organization, account_id: str
    ) -> OrganizationMember:
        member = repos.organizations.member(account_id)
        if member is None or member.organization_id != org.organization_id:
            raise AccountNotFoundException()
        return member

    def describe_account(self, caller_account: str, account_id: str) -> AccountView:
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            member = self._member_of(repos, org, account_id)
        return self._view(org, member)

    def list_accounts(
        self, caller_account: str, token: str | None, max_results: int | None
    ) -> OrgPage[AccountView]:
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            members = repos.organizations.members(org.organization_id)
        page = page_of(members, "accounts", token, max_results)
        return OrgPage([self._view(org, m) for m in page.items], page.next_token)

    def list_accounts_for_parent(
        self, caller_account: str, parent_id: str, token: str | None, max_results: int | None
    ) -> OrgPage[AccountView]:
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            self._parent(repos, org, parent_id)
            members = repos.organizations.members_of(parent_id)
        page = page_of(members, "accounts-for-parent:" + parent_id, token, max_results)
        return OrgPage([self._view(org, m) for m in page.items], page.next_token)

    def close_account(self, caller_account: str, account_id: str) -> None:
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            self._member_of(repos, org, account_id)
        if account_id == org.management_account_id:
            raise ConstraintViolationException.because(
                "CANNOT_CLOSE_MANAGEMENT_ACCOUNT",
                "You attempted to close the management account. To close the management "
                "account for the organization, you must first either remove or close all "
                "member accounts in the organization.",
            )
        account = self._directory.lookup(account_id)
        if account is not None and str(getattr(account.status, "value", account.status)) in (
            "SUSPENDED",
            "PENDING_CLOSURE",
        ):
            raise AccountAlreadyClosedException()
        # AWS shows PENDING_CLOSURE for a while, then SUSPENDED; iamd closes at once.
        self._directory.set_status(account_id, "SUSPENDED")

    def remove_account(self, caller_account: str, account_id: str) -> None:
        with self._tx.write() as repos:
            org = self.managed(repos, caller_account)
            self._member_of(repos, org, account_id)
            if account_id == org.management_account_id:
                raise ConstraintViolationException.because(
                    "ACCOUNT_CANNOT_LEAVE_ORGANIZATION",
                    "You attempted to remove the management account from the organization. "
                    "You can't remove the management account. Instead, after you remove all "
                    "member accounts, delete the organization itself.",
                )
            repos.organizations.remove_member(account_id)
            repos.organizations.detach_target(account_id)
            repos.organizations.drop_tags(account_id)

    # -- parents and OUs -------------------------------------------------------------

    def _parent(self, repos: Repositories, org: Organization, parent_id: str) -> int:
        """The depth of a root (0) or OU of `org`, or ParentNotFoundException."""
        depth = self.depth_of(repos, org, parent_id)
        if depth is None:
            raise ParentNotFoundException()
        return depth

    def depth_of(self, repos: Repositories, org: Organization, parent_id: str) -> int | None:
        if parent_id == org.root_id:
            return 0
        depth = 0
        current = parent_id
        while current != org.root_id:
            ou = repos.organizations.ou(current)
            if ou is None or ou.organization_id != org.organization_id:
                return None
            depth += 1
            current = ou.parent_id
        return depth

    def _ou(self, repos: Repositories, org: Organization, ou_id: str) -> OrganizationalUnit:
        ou = repos.organizations.ou(ou_id)
        if ou is None or ou.organization_id != org.organization_id:
            raise OrganizationalUnitNotFoundException()
        return ou

    def create_ou(
        self, caller_account: str, parent_id: str, name: str, tags: Mapping[str, str]
    ) -> tuple[Organization, OrganizationalUnit]:
        check_tags(tags)
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            org = self.managed(repos, caller_account)
            if self._parent(repos, org, parent_id) + 1 > MAX_OU_DEPTH:
                raise ConstraintViolationException.because(
                    "OU_DEPTH_LIMIT_EXCEEDED",
                    "You attempted to create an OU tree that is too many levels deep.",
                )
            if len(repos.organizations.ous(org.organization_id)) >= MAX_OUS:
                raise ConstraintViolationException.because(
                    "OU_NUMBER_LIMIT_EXCEEDED",
                    "You attempted to exceed the number of OUs that you can have in an "
                    "organization.",
                )
            if repos.organizations.ou_named(parent_id, name) is not None:
                raise DuplicateOrganizationalUnitException()
            ou = OrganizationalUnit(
                organization_ids.ou_id(org.root_id), org.organization_id, parent_id, name, now
            )
            repos.organizations.add_ou(ou)
            if org.scp_enabled:
                repos.organizations.attach(org.organization_id, FULL_AWS_ACCESS_ID, ou.ou_id, now)
            if tags:
                repos.organizations.put_tags(org.organization_id, ou.ou_id, tags)
        return org, ou

    def describe_ou(
        self, caller_account: str, ou_id: str
    ) -> tuple[Organization, OrganizationalUnit]:
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            return org, self._ou(repos, org, ou_id)

    def update_ou(
        self, caller_account: str, ou_id: str, name: str | None
    ) -> tuple[Organization, OrganizationalUnit]:
        with self._tx.write() as repos:
            org = self.managed(repos, caller_account)
            ou = self._ou(repos, org, ou_id)
            if name is None or name == ou.name:
                return org, ou
            if repos.organizations.ou_named(ou.parent_id, name) is not None:
                raise DuplicateOrganizationalUnitException()
            repos.organizations.rename_ou(ou_id, name)
        return org, OrganizationalUnit(
            ou.ou_id, ou.organization_id, ou.parent_id, name, ou.create_date
        )

    def delete_ou(self, caller_account: str, ou_id: str) -> None:
        with self._tx.write() as repos:
            org = self.managed(repos, caller_account)
            self._ou(repos, org, ou_id)
            if repos.organizations.ous_of(ou_id) or repos.organizations.members_of(ou_id):
                raise OrganizationalUnitNotEmptyException()
            repos.organizations.detach_target(ou_id)
            repos.organizations.drop_tags(ou_id)
            repos.organizations.delete_ou(ou_id)

    def list_ous_for_parent(
        self, caller_account: str, parent_id: str, token: str | None, max_results: int | None
    ) -> tuple[Organization, OrgPage[OrganizationalUnit]]:
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            self._parent(repos, org, parent_id)
            ous = repos.organizations.ous_of(parent_id)
        return org, page_of(ous, "ous-for-parent:" + parent_id, token, max_results)

    def list_children(
        self,
        caller_account: str,
        parent_id: str,
        child_type: str,
        token: str | None,
        max_results: int | None,
    ) -> OrgPage[str]:
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            self._parent(repos, org, parent_id)
            if child_type == "ACCOUNT":
                ids = [m.account_id for m in repos.organizations.members_of(parent_id)]
            else:
                ids = [ou.ou_id for ou in repos.organizations.ous_of(parent_id)]
        return page_of(ids, f"children:{child_type}:{parent_id}", token, max_results)

    def list_parents(self, caller_account: str, child_id: str) -> str:
        """The parent (root or OU id) of an account or OU."""
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            if child_id.startswith("ou-"):
                ou = repos.organizations.ou(child_id)
                if ou is None or ou.organization_id != org.organization_id:
                    raise ChildNotFoundException()
                return ou.parent_id
            member = repos.organizations.member(child_id)
            if member is None or member.organization_id != org.organization_id:
                raise ChildNotFoundException()
            return member.parent_id

    def move_account(
        self, caller_account: str, account_id: str, source_id: str, destination_id: str
    ) -> None:
        with self._tx.write() as repos:
            org = self.managed(repos, caller_account)
            member = self._member_of(repos, org, account_id)
            if self.depth_of(repos, org, source_id) is None:
                raise SourceParentNotFoundException()
            if self.depth_of(repos, org, destination_id) is None:
                raise DestinationParentNotFoundException()
            if member.parent_id == destination_id:
                raise DuplicateAccountException()
            if member.parent_id != source_id:
                raise AccountNotFoundException()
            repos.organizations.move_member(account_id, destination_id)

    # -- CreateAccount ---------------------------------------------------------------

    def create_account(
        self,
        caller_account: str,
        name: str,
        email: str,
        role_name: str | None,
        tags: Mapping[str, str],
    ) -> CreateAccountRequest:
        role = role_name or DEFAULT_ACCESS_ROLE
        if role.startswith(_RESERVED_ROLE_PREFIX):
            raise InvalidInputException.because(
                "INVALID_ROLE_NAME",
                "You provided a role name that isn't valid. A role name can't begin with the "
                "reserved prefix 'AWSServiceRoleFor'.",
            )
        check_tags(tags)
        now = self._clock.now()
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            org = self.managed(repos, caller_account)
            request = CreateAccountRequest(
                organization_ids.create_account_request_id(),
                org.organization_id,
                name,
                email,
                role,
                "IN_PROGRESS",
                None,
                None,
                now,
                None,
                tuple(tags.items()),
            )
            repos.organizations.add_request(request)
        self._background(lambda: self._complete(request, org.management_account_id))
        return request

    def resume_interrupted(self) -> int:
        """Resume every request left IN_PROGRESS RESUME_AFTER ago or more; how many."""
        with self._tx.read() as repos:
            stale = repos.organizations.requests_in_progress(self._clock.now() - RESUME_AFTER)
            managers = {
                request.request_id: org.management_account_id
                for request in stale
                if (org := repos.organizations.by_id(request.organization_id)) is not None
            }
        for request in stale:
            if request.request_id in managers:
                self._resume(request, managers[request.request_id])
        return len(managers)

    def _resume(self, request: CreateAccountRequest, management_account_id: str) -> None:
        with self._resuming_lock:
            if request.request_id in self._resuming:
                return
            self._resuming.add(request.request_id)
        log.warning("resuming CreateAccount %s, left in progress", request.request_id)
        self._background(lambda: self._complete(request, management_account_id, resuming=True))

    def _complete(
        self, request: CreateAccountRequest, management_account_id: str, *, resuming: bool = False
    ) -> None:
        """CreateAccount's background step; never raises (the outcome is the request's)."""
        try:
            account = self._account_for(request, resuming)
        except EmailAlreadyTaken:
            self._finish(request, "FAILED", "EMAIL_ALREADY_EXISTS", None)
            return
        except Exception:
            log.exception("CreateAccount %s failed creating the account", request.request_id)
            self._finish(request, "FAILED", "INTERNAL_FAILURE", None)
            return
        try:
            self._directory.provision_access_role(
                account.account_id, request.role_name, management_account_id
            )
            self._finish(request, "SUCCEEDED", None, account.account_id)
        except Exception:
            log.exception("CreateAccount %s failed provisioning its role", request.request_id)
            self._finish(request, "FAILED", "INTERNAL_FAILURE", None)

    def _account_for(self, request: CreateAccountRequest, resuming: bool) -> DirectoryAccount:
        """The request's new account; when resuming, the one made for it before the node
        stopped (its email, made since the request, in no organization) if there is one."""
        if resuming:
            found = self._directory.by_email(request.email)
            if found is not None:
                with self._tx.read() as repos:
                    member = repos.organizations.member(found.account_id)
                if member is None and found.create_date >= request.requested_date:
                    return found
                raise EmailAlreadyTaken("An account with this email address already exists.")
        return self._directory.create(request.account_name, request.email)

    def _finish(
        self, request: CreateAccountRequest, state: str, reason: str | None, account_id: str | None
    ) -> None:
        now = self._clock.now()
        try:
            with self._tx.write(credentials=NO_CREDENTIALS) as repos:
                org = repos.organizations.by_id(request.organization_id)
                if org is None:
                    return  # the organization was deleted meanwhile
                if not repos.organizations.complete_request(
                    request.request_id, state, reason, account_id, now
                ):
                    return  # completed already (by a node that resumed it too)
                if account_id is not None:
                    repos.organizations.add_member(
                        OrganizationMember(
                            account_id, org.organization_id, org.root_id, "CREATED", now
                        )
                    )
                    if org.scp_enabled:
                        repos.organizations.attach(
                            org.organization_id, FULL_AWS_ACCESS_ID, account_id, now
                        )
                    if request.tags:
                        repos.organizations.put_tags(
                            org.organization_id, account_id, dict(request.tags)
                        )
        except Exception:
            log.exception("CreateAccount %s could not record its outcome", request.request_id)

    def describe_create_account_status(
        self, caller_account: str, request_id: str
    ) -> CreateAccountRequest:
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            request = repos.organizations.request(request_id)
        if request is None or request.organization_id != org.organization_id:
            raise CreateAccountStatusNotFoundException()
        if (
            request.state == "IN_PROGRESS"
            and self._clock.now() - request.requested_date >= RESUME_AFTER
        ):
            self._resume(request, org.management_account_id)
        return request

    def list_create_account_status(
        self,
        caller_account: str,
        states: Sequence[str] | None,
        token: str | None,
        max_results: int | None,
    ) -> OrgPage[CreateAccountRequest]:
        with self._tx.read() as repos:
            org = self.managed(repos, caller_account)
            requests = repos.organizations.requests(org.organization_id)
        if states:
            requests = [r for r in requests if r.state in states]
        listing = "create-account-status:" + ",".join(sorted(states or ()))
        return page_of(requests, listing, token, max_results)

    # -- for the policy engine -------------------------------------------------------

    def scp_levels(self, account_id: str) -> tuple[tuple[str, ...], ...] | None:
        """The SCP documents of each level from the root down to the account, or None
        when SCPs do not apply (no organization, SCPs not enabled, the management account)."""
        found = self._account_facts(account_id)
        return None if found is None else found.scp_levels

    def org_facts(self, account_id: str) -> OrgFacts | None:
        """(organization id, organization paths) of an account; None outside any."""
        found = self._account_facts(account_id)
        return None if found is None else found.facts

    def _account_facts(self, account_id: str) -> _AccountFacts | None:
        return self._facts.get(account_id, lambda: (self._load_facts(account_id),))[0]

    def _load_facts(self, account_id: str) -> _AccountFacts | None:
        with self._tx.read() as repos:
            member = repos.organizations.member(account_id)
            if member is None:
                return None
            org = repos.organizations.by_id(member.organization_id)
            if org is None:
                return None
            chain: list[str] = []  # the account's parents, nearest first
            current = member.parent_id
            while current != org.root_id:
                ou = repos.organizations.ou(current)
                if ou is None:
                    break
                chain.append(current)
                current = ou.parent_id
            levels_ids = [org.root_id, *reversed(chain)]
            path = "/".join([org.organization_id, *levels_ids]) + "/"
            facts = OrgFacts(org.organization_id, (path,))
            if not org.scp_enabled or account_id == org.management_account_id:
                return _AccountFacts(facts, None)
            attachments = repos.organizations.attachments(org.organization_id)
            contents = repos.organizations.contents(org.organization_id)
        contents[FULL_AWS_ACCESS_ID] = FULL_AWS_ACCESS_CONTENT
        levels = tuple(
            tuple(contents[p] for p in attachments.get(target, ()) if p in contents)
            for target in (*levels_ids, account_id)
        )
        return _AccountFacts(facts, levels)
