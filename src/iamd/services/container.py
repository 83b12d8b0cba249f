"""All services of one server process, wired once at start-up."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from iamd.auth.passwords import PasswordHashing
from iamd.auth.secret_box import SecretBox
from iamd.clock import Clock
from iamd.ids import IdGenerator
from iamd.model.quotas import Quotas
from iamd.principals.credentials import CredentialResolver
from iamd.principals.principal_policies import PolicyCompiler
from iamd.principals.ssh_logins import SSHLoginResolver
from iamd.services.access_keys import AccessKeyService
from iamd.services.account import AccountService
from iamd.services.authorization_details import AuthorizationDetailsService
from iamd.services.clone_urls import CloneUrls
from iamd.services.credential_report import CredentialReportService
from iamd.services.entity_paths import EntityPaths
from iamd.services.groups import GroupService
from iamd.services.inline_policies import InlinePolicyService
from iamd.services.instance_profiles import InstanceProfileService
from iamd.services.last_used import LastUsedRecorder
from iamd.services.mfa_devices import MFADeviceService
from iamd.services.organization_policies import OrganizationPolicyService
from iamd.services.organizations import OrganizationsService
from iamd.services.passwords import PasswordService
from iamd.services.permissions_boundaries import PermissionsBoundaryService
from iamd.services.policies import PolicyService
from iamd.services.provisional_accounts import ProvisionalAccounts
from iamd.services.repositories import RepositoryService
from iamd.services.roles import RoleService
from iamd.services.server_certificates import ServerCertificateService
from iamd.services.service_linked_roles import ServiceLinkedRoleService
from iamd.services.sign_in import SignInService
from iamd.services.signing_certificates import SigningCertificateService
from iamd.services.ssh_public_keys import SSHPublicKeyService
from iamd.services.sts import StsService
from iamd.services.throttle import DEFAULT_MAX_NAMES, Backoff, FailureLedger
from iamd.services.users import UserService
from iamd.store.database import Database
from iamd.store.transactions import Transactions


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
    signing_certificates: SigningCertificateService
    server_certificates: ServerCertificateService
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
    passwords: PasswordService
    sign_in: SignInService
    ssh_logins: SSHLoginResolver
    organizations: OrganizationsService
    organization_policies: OrganizationPolicyService

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
    ) -> Services:
        tx = Transactions(database, account_id)
        compiler = PolicyCompiler()
        credentials = CredentialResolver(tx, secret_box, compiler)
        mfa_devices = MFADeviceService(tx, clock, quotas, secret_box)
        last_used = LastUsedRecorder(database, last_used_flush_seconds)
        passwords = PasswordService(
            tx,
            clock,
            password_hashing or PasswordHashing(),
            FailureLedger(sign_in_backoff or Backoff(), max_names=sign_in_tracked_names),
        )
        # CreateAccount completes on this thread, never on the event loop or a request's.
        org_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="iamd-orgs")
        organizations = OrganizationsService(
            tx,
            clock,
            # PROVISIONAL: the accounts service (issue 13 part A) replaces this at merge.
            ProvisionalAccounts(tx, clock, account_id),
            org_worker.submit,
        )
        # SCPs restrict the member accounts' principals from the next request on: the
        # compiler asks the organization for them (principals/organization_policies.py).
        compiler.use_organization(organizations)
        return cls(
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
            access_keys=AccessKeyService(tx, clock, ids, quotas, secret_box),
            ssh_public_keys=SSHPublicKeyService(tx, clock, ids, quotas, rsa_only=ssh_rsa_only),
            signing_certificates=SigningCertificateService(tx, clock, ids, quotas),
            server_certificates=ServerCertificateService(tx, clock, ids, quotas, secret_box),
            mfa_devices=mfa_devices,
            account=AccountService(tx, quotas),
            credentials=credentials,
            policy_compiler=compiler,
            last_used=last_used,
            paths=EntityPaths(tx),
            repositories=RepositoryService(tx, clock, repositories_dir),
            clone_urls=clone_urls or CloneUrls(),
            sts=StsService(tx, clock, ids, credentials.tokens, mfa=mfa_devices),
            credential_report=CredentialReportService(tx, clock, last_used),
            passwords=passwords,
            sign_in=SignInService(passwords, clock, account_id),
            ssh_logins=SSHLoginResolver(tx, compiler),
            organizations=organizations,
            organization_policies=OrganizationPolicyService(tx, clock, organizations),
        )
