"""All services of one server process, wired once at start-up, and each account's.

`Services.build` makes the services of the bootstrap account; `Services.in_account`
gives another account's: the same attribute names (users, groups, roles, policies,
access_keys, account...), built on that account's `Transactions` view, so every
repository they use is bound to it and their read caches are that account's. They are
built once per account and kept (accounts are few): picking a request's services is one
dictionary look-up. Process-wide parts are shared by all: the clock, the ids, the
credential and SSH-login resolvers (key ids are unique across accounts), the policy
compiler, the last-used recorder, the sign-in failure ledger, clone URLs, and
`accounts`, the list of accounts."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from iamd.auth.authorization_messages import AuthorizationMessages
from iamd.auth.oidc_discovery import fetch_jwks, tls_context
from iamd.auth.passwords import PasswordHashing
from iamd.auth.secret_box import SecretBox
from iamd.clock import Clock
from iamd.ids import IdGenerator
from iamd.model.quotas import Quotas
from iamd.principals.credentials import CredentialResolver
from iamd.principals.git_credentials import GitCredentialResolver
from iamd.principals.principal_policies import PolicyCompiler
from iamd.principals.ssh_logins import SSHLoginResolver
from iamd.services.access_advisor import AccessAdvisorService
from iamd.services.access_keys import AccessKeyService
from iamd.services.account import AccountService
from iamd.services.accounts import AccountsService
from iamd.services.advisor_jobs import AdvisorJobs, Submit
from iamd.services.authorization_details import AuthorizationDetailsService
from iamd.services.clone_urls import CloneUrls
from iamd.services.credential_report import CredentialReportService
from iamd.services.delegation_notifications import DelegationNotifications
from iamd.services.delegation_requests import DelegationRequestService
from iamd.services.entity_paths import EntityPaths
from iamd.services.external_idp import ExternalIdpService
from iamd.services.groups import GroupService
from iamd.services.identity_center import IdentityCenterService
from iamd.services.identity_store import IdentityStoreService
from iamd.services.inline_policies import InlinePolicyService
from iamd.services.instance_profiles import InstanceProfileService
from iamd.services.last_used import LastUsedRecorder
from iamd.services.mfa_devices import MFADeviceService
from iamd.services.oidc_keys import JwksCache
from iamd.services.oidc_providers import OIDCProviderService
from iamd.services.organization_policies import OrganizationPolicyService
from iamd.services.organizations import OrganizationsService
from iamd.services.organizations_access_report import OrganizationsAccessReportService
from iamd.services.outbound_federation import OutboundFederationService
from iamd.services.passwords import PasswordService
from iamd.services.permission_sets import PermissionSetService
from iamd.services.permissions_boundaries import PermissionsBoundaryService
from iamd.services.policies import PolicyService
from iamd.services.repositories import RepositoryService
from iamd.services.roles import RoleService
from iamd.services.saml_providers import SamlProviderService
from iamd.services.scim_tokens import ScimTokenService
from iamd.services.server_certificates import ServerCertificateService
from iamd.services.service_linked_roles import ServiceLinkedRoleService
from iamd.services.service_specific_credentials import ServiceSpecificCredentialService
from iamd.services.sign_in import SignInService
from iamd.services.signing_certificates import SigningCertificateService
from iamd.services.ssh_public_keys import SSHPublicKeyService
from iamd.services.sso_mfa import SsoMfaService
from iamd.services.sso_oidc import SsoOidcService
from iamd.services.sso_portal import SsoPortalService
from iamd.services.sso_portal_sessions import PortalSessions
from iamd.services.sts import StsService
from iamd.services.throttle import DEFAULT_MAX_NAMES, Backoff, FailureLedger
from iamd.services.users import UserService
from iamd.services.web_identity import WebIdentityService
from iamd.store.database import Database
from iamd.store.transactions import Transactions


@dataclass(frozen=True, slots=True)
class _Shared:
    """What `Services.in_account` needs to build another account's services."""

    secret_box: SecretBox
    ssh_rsa_only: bool
    repositories_dir: Path
    password_hashing: PasswordHashing
    failures: FailureLedger
    # The accounts and the organization are the process's, not an account's.
    accounts: AccountsService
    organizations: OrganizationsService
    organization_policies: OrganizationPolicyService
    # Access advisor jobs are built on one thread of the process (services/access_advisor).
    advisor_submit: Submit | None = None
    # Where clients reach this server: the base of the accounts' OIDC issuer URLs.
    public_url: str = "http://127.0.0.1:4580"
    # The OpenID Connect providers' signing keys, cached per issuer for every account.
    jwks: JwksCache = field(
        default_factory=lambda: JwksCache(
            lambda issuer, prints: fetch_jwks(issuer, tls_context(), thumbprints=prints)
        )
    )
    # account id -> its services; the bootstrap account's is there from the start.
    by_account: dict[str, Services] = field(default_factory=dict)
    # Delegation requests' messages to their partners (services/delegation_notifications).
    delegation_notifications: DelegationNotifications = field(
        default_factory=lambda: DelegationNotifications(None)
    )


@dataclass(frozen=True, slots=True)
class Services:
    tx: Transactions
    clock: Clock
    ids: IdGenerator
    quotas: Quotas
    users: UserService
    groups: GroupService
    roles: RoleService
    instance_profiles: InstanceProfileService
    service_linked_roles: ServiceLinkedRoleService
    policies: PolicyService
    inline_policies: InlinePolicyService
    permissions_boundaries: PermissionsBoundaryService
    authorization_details: AuthorizationDetailsService
    access_keys: AccessKeyService
    ssh_public_keys: SSHPublicKeyService
    service_specific_credentials: ServiceSpecificCredentialService
    signing_certificates: SigningCertificateService
    server_certificates: ServerCertificateService
    oidc_providers: OIDCProviderService
    saml_providers: SamlProviderService
    mfa_devices: MFADeviceService
    account: AccountService
    credentials: CredentialResolver
    policy_compiler: PolicyCompiler
    last_used: LastUsedRecorder
    paths: EntityPaths
    repositories: RepositoryService
    clone_urls: CloneUrls
    sts: StsService
    credential_report: CredentialReportService
    access_advisor: AccessAdvisorService
    organizations_access_report: OrganizationsAccessReportService
    passwords: PasswordService
    sign_in: SignInService
    ssh_logins: SSHLoginResolver
    git_credentials: GitCredentialResolver
    accounts: AccountsService
    organizations: OrganizationsService
    organization_policies: OrganizationPolicyService
    identity_center: IdentityCenterService
    identity_store: IdentityStoreService
    permission_sets: PermissionSetService
    sso_oidc: SsoOidcService
    sso_portal: SsoPortalService
    sso_mfa: SsoMfaService
    portal_sessions: PortalSessions
    outbound_federation: OutboundFederationService
    web_identity: WebIdentityService
    scim_tokens: ScimTokenService
    external_idp: ExternalIdpService
    delegation_requests: DelegationRequestService
    _shared: _Shared = field(repr=False, compare=False)

    @property
    def account_id(self) -> str:
        return self.tx.account_id

    def in_account(self, account_id: str) -> Services:
        """The services of `account_id` (this object for its own account).

        Built on first use and kept. It does not check that the account exists: the
        caller got the id from a resolved credential, a role's ARN, or the accounts
        service. Thread-safe enough: two threads building the same account's services
        at once build two equal sets, and one of them is kept.
        """
        found = self._shared.by_account.get(account_id)
        if found is None:
            found = self._for(self.tx.in_account(account_id))
            found = self._shared.by_account.setdefault(account_id, found)
        return found

    def for_sign_in(self, account: str) -> Services:
        """The services of the account named by its id or alias, else this account's."""
        found = self.accounts.find(account)
        # A closed account's users cannot sign in: answered as an unknown account is.
        if found is None or found.status == "SUSPENDED":
            return self
        return self.in_account(found.account_id)

    def _for(self, tx: Transactions) -> Services:
        return _account_services(
            tx,
            clock=self.clock,
            ids=self.ids,
            quotas=self.quotas,
            credentials=self.credentials,
            compiler=self.policy_compiler,
            last_used=self.last_used,
            clone_urls=self.clone_urls,
            ssh_logins=self.ssh_logins,
            shared=self._shared,
        )

    @classmethod
    def build(
        cls,
        *,
        database: Database,
        account_id: str,
        clock: Clock,
        ids: IdGenerator,
        quotas: Quotas,
        secret_box: SecretBox,
        last_used_flush_seconds: float,
        ssh_rsa_only: bool = False,
        repositories_dir: Path = Path("./data/repositories"),
        clone_urls: CloneUrls | None = None,
        password_hashing: PasswordHashing | None = None,
        sign_in_backoff: Backoff | None = None,
        sign_in_tracked_names: int = DEFAULT_MAX_NAMES,
        public_url: str = "http://127.0.0.1:4580",
        oidc_tls: ssl.SSLContext | None = None,
        oidc_connect_to: Mapping[str, tuple[str, int]] | None = None,
        delegation_notifications_dir: Path | None = None,
    ) -> Services:
        """`oidc_tls`: the TLS trust for fetching OpenID Connect providers' keys (the
        system's store when None); `oidc_connect_to`: tests only, see
        `oidc_discovery.fetch_jwks`; `delegation_notifications_dir`: where delegation
        requests' notifications are written (none when None)."""
        tx = Transactions(database, account_id)
        tls = oidc_tls or tls_context()
        compiler = PolicyCompiler()
        credentials = CredentialResolver(tx, secret_box, compiler)
        by_account: dict[str, Services] = {}

        def services_of(wanted: str) -> Services:
            return by_account[account_id].in_account(wanted)

        accounts = AccountsService(tx, clock, services_of)
        # CreateAccount completes on this thread, never on the event loop or a request's.
        org_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="iamd-orgs")
        organizations = OrganizationsService(tx, clock, accounts, org_worker.submit)
        # SCPs restrict the member accounts' principals from the next request on: the
        # compiler asks the organization for them (principals/organization_policies.py).
        compiler.use_organization(organizations)
        shared = _Shared(
            secret_box=secret_box,
            ssh_rsa_only=ssh_rsa_only,
            repositories_dir=repositories_dir,
            password_hashing=password_hashing or PasswordHashing(),
            failures=FailureLedger(sign_in_backoff or Backoff(), max_names=sign_in_tracked_names),
            accounts=accounts,
            organizations=organizations,
            organization_policies=OrganizationPolicyService(tx, clock, organizations),
            # Reports are built off the event loop and the request threads, one at a time.
            advisor_submit=ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="iamd-access-advisor"
            ).submit,
            by_account=by_account,
            public_url=public_url,
            jwks=JwksCache(
                lambda issuer, prints: fetch_jwks(
                    issuer, tls, thumbprints=prints, connect_to=oidc_connect_to or {}
                )
            ),
            delegation_notifications=DelegationNotifications(delegation_notifications_dir),
        )
        services = _account_services(
            tx,
            clock=clock,
            ids=ids,
            quotas=quotas,
            credentials=credentials,
            compiler=compiler,
            last_used=LastUsedRecorder(database, last_used_flush_seconds),
            clone_urls=clone_urls or CloneUrls(),
            ssh_logins=SSHLoginResolver(tx, compiler),
            shared=shared,
        )
        shared.by_account[account_id] = services
        return services


def _inline(work: Callable[[], None]) -> Future[None]:
    done: Future[None] = Future()
    work()
    done.set_result(None)
    return done


def _account_services(
    tx: Transactions,
    *,
    clock: Clock,
    ids: IdGenerator,
    quotas: Quotas,
    credentials: CredentialResolver,
    compiler: PolicyCompiler,
    last_used: LastUsedRecorder,
    clone_urls: CloneUrls,
    ssh_logins: SSHLoginResolver,
    shared: _Shared,
) -> Services:
    box = shared.secret_box
    mfa_devices = MFADeviceService(tx, clock, quotas, box)
    passwords = PasswordService(tx, clock, shared.password_hashing, shared.failures)
    identity_center = IdentityCenterService(tx, clock)
    outbound_federation = OutboundFederationService(tx, clock, box, shared.public_url)
    advisor_jobs = AdvisorJobs(
        tx, clock, lambda: str(uuid.uuid4()), last_used, shared.advisor_submit or _inline
    )
    return Services(
        tx=tx,
        clock=clock,
        ids=ids,
        quotas=quotas,
        users=UserService(tx, clock, ids, quotas),
        groups=GroupService(tx, clock, ids, quotas),
        roles=RoleService(tx, clock, ids, quotas),
        instance_profiles=InstanceProfileService(tx, clock, ids, quotas),
        service_linked_roles=ServiceLinkedRoleService(tx, clock, ids, quotas),
        policies=PolicyService(tx, clock, ids, quotas),
        inline_policies=InlinePolicyService(tx, quotas),
        permissions_boundaries=PermissionsBoundaryService(tx),
        authorization_details=AuthorizationDetailsService(tx),
        access_keys=AccessKeyService(tx, clock, ids, quotas, box),
        ssh_public_keys=SSHPublicKeyService(tx, clock, ids, quotas, rsa_only=shared.ssh_rsa_only),
        service_specific_credentials=ServiceSpecificCredentialService(
            tx, clock, ids, quotas, shared.password_hashing
        ),
        signing_certificates=SigningCertificateService(tx, clock, ids, quotas),
        server_certificates=ServerCertificateService(tx, clock, ids, quotas, box),
        oidc_providers=OIDCProviderService(tx, clock, ids, quotas),
        saml_providers=SamlProviderService(tx, clock, quotas, box),
        mfa_devices=mfa_devices,
        account=AccountService(tx, quotas),
        credentials=credentials,
        policy_compiler=compiler,
        last_used=last_used,
        paths=EntityPaths(tx),
        repositories=RepositoryService(tx, clock, shared.repositories_dir),
        clone_urls=clone_urls,
        sts=StsService(
            tx,
            clock,
            ids,
            credentials.tokens,
            mfa=mfa_devices,
            messages=AuthorizationMessages(box),
        ),
        credential_report=CredentialReportService(tx, clock, last_used),
        access_advisor=AccessAdvisorService(tx, advisor_jobs),
        organizations_access_report=OrganizationsAccessReportService(tx, advisor_jobs),
        passwords=passwords,
        sign_in=SignInService(passwords, clock, tx.account_id),
        ssh_logins=ssh_logins,
        git_credentials=GitCredentialResolver(tx, compiler, shared.password_hashing),
        accounts=shared.accounts,
        organizations=shared.organizations,
        organization_policies=shared.organization_policies,
        identity_center=identity_center,
        identity_store=IdentityStoreService(tx, clock),
        permission_sets=PermissionSetService(tx, clock, ids, identity_center.require_instance),
        sso_oidc=SsoOidcService(tx, clock),
        sso_mfa=SsoMfaService(tx, clock, box, shared.failures),
        portal_sessions=PortalSessions(tx, clock),
        scim_tokens=ScimTokenService(tx, clock),
        external_idp=ExternalIdpService(tx, clock, shared.public_url),
        sso_portal=SsoPortalService(
            tx,
            clock,
            shared.password_hashing,
            shared.failures,
            # The role's account's STS: its sessions are that account's.
            lambda account: StsService(
                tx.in_account(account), clock, ids, credentials.tokens, mfa=None
            ),
        ),
        outbound_federation=outbound_federation,
        web_identity=WebIdentityService(tx, clock, shared.jwks, outbound_federation.published_keys),
        delegation_requests=DelegationRequestService(
            tx, clock, shared.delegation_notifications, lambda a: _account_name(shared, a)
        ),
        _shared=shared,
    )


def _account_name(shared: _Shared, account_id: str) -> str:
    """A delegation request's RequestorName: the partner account's name, else its alias,
    else its id."""
    found = shared.accounts.lookup(account_id)
    if found is None:
        return account_id
    return found.name or found.alias or account_id
