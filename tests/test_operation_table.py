"""The operation table is complete and names the resource AWS authorizes each call against.

Every served operation must have its action, a resource resolver, and exist in botocore's
model of its service. Every IAM operation in the table has an entry below with sample
parameters and the ARN AWS authorizes against (Service Authorization Reference, iam-facts
§4.3): a new operation cannot be served without saying what it is authorized against.
The resolvers run on real services over a real (SQLite) database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import botocore.session
import pytest

from iamd.auth.secret_box import SecretBox
from iamd.clock import SystemClock
from iamd.ids import RandomIds
from iamd.model.quotas import Quotas
from iamd.operations.registry import CallContext, Operation, Params
from iamd.operations.table import build_operation_table
from iamd.principals.caller import Caller, PrincipalType
from iamd.services.bootstrap import bootstrap
from iamd.services.container import Services
from iamd.store.database import Database
from iamd.store.migrate import upgrade_to_head
from tests.support.certificates import issue

ACCOUNT = "123456789012"
CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/ops/caller"
BOB = f"arn:aws:iam::{ACCOUNT}:user/division/bob"
DEVS = f"arn:aws:iam::{ACCOUNT}:group/eng/devs"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"
POLICY = f"arn:aws:iam::{ACCOUNT}:policy/team/Readers"
RUNNER = f"arn:aws:iam::{ACCOUNT}:instance-profile/ec2/runner"
SERVICE_ROLES = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role"
AWS_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
KEY = "<bob's access key>"  # replaced by a real key id of bob's

TABLE = build_operation_table()


@dataclass(frozen=True)
class World:
    ctx: CallContext
    bob_key: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("table")
    database = Database(f"sqlite:///{data / 'iamd.db'}")
    upgrade_to_head(database)
    box = SecretBox(os.urandom(32))
    services = Services.build(
        database=database,
        account_id=ACCOUNT,
        clock=SystemClock(),
        ids=RandomIds(),
        quotas=Quotas(),
        secret_box=box,
        last_used_flush_seconds=3600,
    )
    bootstrap(
        services,
        box.seal,
        access_key_id=None,
        secret_access_key=None,
        credentials_file=data / "bootstrap-credentials",
    )
    caller_user = services.users.create("caller", "/ops/")
    services.users.create("bob", "/division/")
    services.groups.create("devs", "/eng/")
    services.roles.create("deployer", "/ci/", TRUST_ACCOUNT)
    services.instance_profiles.create("runner", "/ec2/")
    bob_key = services.access_keys.create("bob").key.access_key_id
    web = issue("www.example.com")
    services.server_certificates.upload("web", "/certs/", web.pem, web.key_pem, None)
    caller = Caller(
        account_id=ACCOUNT,
        arn=CALLER_ARN,
        user_id=caller_user.user_id,
        principal_type=PrincipalType.USER,
        access_key_id="AKIAEXAMPLEEXAMPLE01",
        user=caller_user,
    )
    ctx = CallContext(caller, services, "req-1", "us-east-1", "127.0.0.1")
    try:
        yield World(ctx, bob_key)
    finally:
        database.engine.dispose()


TRUST_ACCOUNT = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    f'"Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}'
)
USER = {"UserName": "bob"}
ROLE = {"RoleName": "deployer"}
GROUP = {"GroupName": "devs"}
MEMBERSHIP = {"GroupName": "devs", "UserName": "bob"}
ON_POLICY = {"PolicyArn": POLICY}
PROFILE = {"InstanceProfileName": "runner"}
UUID = "0b9c4f0e-6a3e-4f7e-9d2a-1c2b3d4e5f60"
ANY: Params = {}
MFA = f"arn:aws:iam::{ACCOUNT}:mfa/phones/bobs-phone"
MFA_NEW = f"arn:aws:iam::{ACCOUNT}:mfa/p/phone"
ON_MFA = {"SerialNumber": MFA}
CODES = {"AuthenticationCode1": "123456", "AuthenticationCode2": "654321"}
WEB_CERT = f"arn:aws:iam::{ACCOUNT}:server-certificate/certs/web"
ON_WEB_CERT = {"ServerCertificateName": "web"}
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com/a"
ON_OIDC = {"OpenIDConnectProviderArn": OIDC_ARN}
CERT_ID = {"CertificateId": "A" * 32}
SAML_IDP = f"arn:aws:iam::{ACCOUNT}:saml-provider/corp-idp"
ON_SAML = {"SAMLProviderArn": SAML_IDP}
DELEGATION_ARN = f"arn:aws:iam::{ACCOUNT}:delegation-request/dr-0123456789abcdef"
ON_DELEGATION = {"DelegationRequestId": "dr-0123456789abcdef"}

# operation → (sample parameters, the resource AWS authorizes against)
EXPECTED: dict[str, tuple[Params, str]] = {
    # users: the named user, with its path; new ones with the path they will have
    "CreateUser": ({"UserName": "newbie", "Path": "/p/"}, f"arn:aws:iam::{ACCOUNT}:user/p/newbie"),
    "GetUser": (USER, BOB),
    "ListUsers": (ANY, "*"),
    "UpdateUser": ({"UserName": "bob", "NewUserName": "robert"}, BOB),
    "DeleteUser": (USER, BOB),
    "TagUser": ({**USER, "Tags": [{"Key": "k", "Value": "v"}]}, BOB),
    "UntagUser": ({**USER, "TagKeys": ["k"]}, BOB),
    "ListUserTags": (USER, BOB),
    # groups: the group, also for memberships (not the user)
    "CreateGroup": ({"GroupName": "ops", "Path": "/x/"}, f"arn:aws:iam::{ACCOUNT}:group/x/ops"),
    "GetGroup": (GROUP, DEVS),
    "ListGroups": (ANY, "*"),
    "ListGroupsForUser": (USER, BOB),
    "UpdateGroup": ({**GROUP, "NewGroupName": "developers"}, DEVS),
    "DeleteGroup": (GROUP, DEVS),
    "AddUserToGroup": (MEMBERSHIP, DEVS),
    "RemoveUserFromGroup": (MEMBERSHIP, DEVS),
    # roles: the role, with its path; new ones with the path they will have
    "CreateRole": ({"RoleName": "ci", "Path": "/r/"}, f"arn:aws:iam::{ACCOUNT}:role/r/ci"),
    "GetRole": (ROLE, DEPLOYER),
    "ListRoles": (ANY, "*"),
    "UpdateRole": ({**ROLE, "MaxSessionDuration": 7200}, DEPLOYER),
    "UpdateRoleDescription": ({**ROLE, "Description": "d"}, DEPLOYER),
    "UpdateAssumeRolePolicy": ({**ROLE, "PolicyDocument": "{}"}, DEPLOYER),
    "DeleteRole": (ROLE, DEPLOYER),
    "TagRole": ({**ROLE, "Tags": [{"Key": "k", "Value": "v"}]}, DEPLOYER),
    "UntagRole": ({**ROLE, "TagKeys": ["k"]}, DEPLOYER),
    "ListRoleTags": (ROLE, DEPLOYER),
    # instance profiles: the profile, with its path; ListInstanceProfilesForRole: the role
    "CreateInstanceProfile": (
        {"InstanceProfileName": "web", "Path": "/p/"},
        f"arn:aws:iam::{ACCOUNT}:instance-profile/p/web",
    ),
    "GetInstanceProfile": (PROFILE, RUNNER),
    "ListInstanceProfiles": (ANY, "*"),
    "ListInstanceProfilesForRole": (ROLE, DEPLOYER),
    "DeleteInstanceProfile": (PROFILE, RUNNER),
    "AddRoleToInstanceProfile": ({**PROFILE, **ROLE}, RUNNER),
    "RemoveRoleFromInstanceProfile": ({**PROFILE, **ROLE}, RUNNER),
    "TagInstanceProfile": ({**PROFILE, "Tags": [{"Key": "k", "Value": "v"}]}, RUNNER),
    "UntagInstanceProfile": ({**PROFILE, "TagKeys": ["k"]}, RUNNER),
    "ListInstanceProfileTags": (PROFILE, RUNNER),
    # service-linked roles: the role the service gets (any of its roles when unknown)
    "CreateServiceLinkedRole": (
        {"AWSServiceName": "autoscaling.amazonaws.com", "CustomSuffix": "x"},
        f"{SERVICE_ROLES}/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_x",
    ),
    "DeleteServiceLinkedRole": (ROLE, DEPLOYER),
    "GetServiceLinkedRoleDeletionStatus": (
        {"DeletionTaskId": f"task/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS/{UUID}"},
        f"{SERVICE_ROLES}/ecs.amazonaws.com/AWSServiceRoleForECS",
    ),
    # managed policies: the policy, new ones with their path
    "CreatePolicy": (
        {"PolicyName": "Readers", "Path": "/team/", "PolicyDocument": "{}"},
        POLICY,
    ),
    "GetPolicy": (ON_POLICY, POLICY),
    "ListPolicies": (ANY, "*"),
    "DeletePolicy": (ON_POLICY, POLICY),
    "CreatePolicyVersion": (ON_POLICY, POLICY),
    "GetPolicyVersion": ({**ON_POLICY, "VersionId": "v1"}, POLICY),
    "ListPolicyVersions": (ON_POLICY, POLICY),
    "DeletePolicyVersion": ({**ON_POLICY, "VersionId": "v2"}, POLICY),
    "SetDefaultPolicyVersion": ({**ON_POLICY, "VersionId": "v2"}, POLICY),
    "ListEntitiesForPolicy": ({"PolicyArn": AWS_POLICY}, AWS_POLICY),
    "TagPolicy": (ON_POLICY, POLICY),
    "UntagPolicy": (ON_POLICY, POLICY),
    "ListPolicyTags": (ON_POLICY, POLICY),
    # attachments: the user or group the policy is attached to
    "AttachUserPolicy": ({**USER, "PolicyArn": AWS_POLICY}, BOB),
    "DetachUserPolicy": ({**USER, "PolicyArn": AWS_POLICY}, BOB),
    "AttachGroupPolicy": ({**GROUP, "PolicyArn": AWS_POLICY}, DEVS),
    "DetachGroupPolicy": ({**GROUP, "PolicyArn": AWS_POLICY}, DEVS),
    "ListAttachedUserPolicies": (USER, BOB),
    "ListAttachedGroupPolicies": (GROUP, DEVS),
    "AttachRolePolicy": ({**ROLE, "PolicyArn": AWS_POLICY}, DEPLOYER),
    "DetachRolePolicy": ({**ROLE, "PolicyArn": AWS_POLICY}, DEPLOYER),
    "ListAttachedRolePolicies": (ROLE, DEPLOYER),
    # inline policies
    "PutUserPolicy": ({**USER, "PolicyName": "p"}, BOB),
    "GetUserPolicy": ({**USER, "PolicyName": "p"}, BOB),
    "ListUserPolicies": (USER, BOB),
    "DeleteUserPolicy": ({**USER, "PolicyName": "p"}, BOB),
    "PutGroupPolicy": ({**GROUP, "PolicyName": "p"}, DEVS),
    "GetGroupPolicy": ({**GROUP, "PolicyName": "p"}, DEVS),
    "ListGroupPolicies": (GROUP, DEVS),
    "DeleteGroupPolicy": ({**GROUP, "PolicyName": "p"}, DEVS),
    "PutRolePolicy": ({**ROLE, "PolicyName": "p"}, DEPLOYER),
    "GetRolePolicy": ({**ROLE, "PolicyName": "p"}, DEPLOYER),
    "ListRolePolicies": (ROLE, DEPLOYER),
    "DeleteRolePolicy": ({**ROLE, "PolicyName": "p"}, DEPLOYER),
    # permissions boundaries: the user or role
    "PutUserPermissionsBoundary": ({**USER, "PermissionsBoundary": POLICY}, BOB),
    "DeleteUserPermissionsBoundary": (USER, BOB),
    "PutRolePermissionsBoundary": ({**ROLE, "PermissionsBoundary": POLICY}, DEPLOYER),
    "DeleteRolePermissionsBoundary": (ROLE, DEPLOYER),
    # access keys: the named user, else the caller; last use: the key's owner
    "CreateAccessKey": (ANY, CALLER_ARN),
    "ListAccessKeys": (ANY, CALLER_ARN),
    "UpdateAccessKey": ({"AccessKeyId": KEY, "Status": "Inactive"}, CALLER_ARN),
    "DeleteAccessKey": ({**USER, "AccessKeyId": KEY}, BOB),
    "GetAccessKeyLastUsed": ({"AccessKeyId": KEY}, BOB),
    "UploadSSHPublicKey": ({**USER, "SSHPublicKeyBody": "ssh-rsa AAAA"}, BOB),
    "GetSSHPublicKey": ({**USER, "SSHPublicKeyId": "APKAEXAMPLE", "Encoding": "SSH"}, BOB),
    "ListSSHPublicKeys": (ANY, CALLER_ARN),
    "UpdateSSHPublicKey": ({**USER, "SSHPublicKeyId": "APKAEXAMPLE", "Status": "Active"}, BOB),
    "DeleteSSHPublicKey": ({**USER, "SSHPublicKeyId": "APKAEXAMPLE"}, BOB),
    # signing certificates: the named user, else the caller
    "CreateServiceSpecificCredential": (
        {**USER, "ServiceName": "codecommit.amazonaws.com"},
        BOB,
    ),
    "ListServiceSpecificCredentials": (ANY, CALLER_ARN),
    "UpdateServiceSpecificCredential": (
        {**USER, "ServiceSpecificCredentialId": "ACCAEXAMPLE123EXAMPLE", "Status": "Inactive"},
        BOB,
    ),
    "ResetServiceSpecificCredential": ({"ServiceSpecificCredentialId": "ACCAEXAMPLE1"}, CALLER_ARN),
    "DeleteServiceSpecificCredential": ({**USER, "ServiceSpecificCredentialId": "ACCA1"}, BOB),
    # SAML providers: the provider's ARN, as named
    "CreateSAMLProvider": ({"Name": "corp-idp", "SAMLMetadataDocument": "<md/>"}, SAML_IDP),
    "GetSAMLProvider": (ON_SAML, SAML_IDP),
    "ListSAMLProviders": (ANY, "*"),
    "UpdateSAMLProvider": ({**ON_SAML, "SAMLMetadataDocument": "<md/>"}, SAML_IDP),
    "DeleteSAMLProvider": (ON_SAML, SAML_IDP),
    "TagSAMLProvider": ({**ON_SAML, "Tags": [{"Key": "k", "Value": "v"}]}, SAML_IDP),
    "UntagSAMLProvider": ({**ON_SAML, "TagKeys": ["k"]}, SAML_IDP),
    "ListSAMLProviderTags": (ON_SAML, SAML_IDP),
    "UploadSigningCertificate": ({"CertificateBody": "pem"}, CALLER_ARN),
    "ListSigningCertificates": (USER, BOB),
    "UpdateSigningCertificate": ({**USER, **CERT_ID, "Status": "Inactive"}, BOB),
    "DeleteSigningCertificate": (CERT_ID, CALLER_ARN),
    # server certificates: the certificate with its path; new ones with the path they
    # will have; the listing "*"
    "UploadServerCertificate": (
        {"ServerCertificateName": "api", "Path": "/p/", "CertificateBody": "c", "PrivateKey": "k"},
        f"arn:aws:iam::{ACCOUNT}:server-certificate/p/api",
    ),
    "GetServerCertificate": (ON_WEB_CERT, WEB_CERT),
    "ListServerCertificates": ({"PathPrefix": "/certs/"}, "*"),
    "UpdateServerCertificate": ({**ON_WEB_CERT, "NewServerCertificateName": "www"}, WEB_CERT),
    "DeleteServerCertificate": (ON_WEB_CERT, WEB_CERT),
    "TagServerCertificate": ({**ON_WEB_CERT, "Tags": [{"Key": "k", "Value": "v"}]}, WEB_CERT),
    "UntagServerCertificate": ({**ON_WEB_CERT, "TagKeys": ["k"]}, WEB_CERT),
    "ListServerCertificateTags": (ON_WEB_CERT, WEB_CERT),
    "CreateOpenIDConnectProvider": ({"Url": "https://idp.example.com/a"}, OIDC_ARN),
    "GetOpenIDConnectProvider": (ON_OIDC, OIDC_ARN),
    "ListOpenIDConnectProviders": ({}, "*"),
    "DeleteOpenIDConnectProvider": (ON_OIDC, OIDC_ARN),
    "AddClientIDToOpenIDConnectProvider": ({**ON_OIDC, "ClientID": "c"}, OIDC_ARN),
    "RemoveClientIDFromOpenIDConnectProvider": ({**ON_OIDC, "ClientID": "c"}, OIDC_ARN),
    "UpdateOpenIDConnectProviderThumbprint": ({**ON_OIDC, "ThumbprintList": []}, OIDC_ARN),
    "TagOpenIDConnectProvider": ({**ON_OIDC, "Tags": [{"Key": "k", "Value": "v"}]}, OIDC_ARN),
    "UntagOpenIDConnectProvider": ({**ON_OIDC, "TagKeys": ["k"]}, OIDC_ARN),
    "ListOpenIDConnectProviderTags": (ON_OIDC, OIDC_ARN),
    # console passwords: the user (ChangePassword: the caller); the policy: "*"
    "CreateLoginProfile": ({**USER, "Password": "x"}, BOB),
    "GetLoginProfile": (ANY, CALLER_ARN),
    "UpdateLoginProfile": (USER, BOB),
    "DeleteLoginProfile": (USER, BOB),
    "ChangePassword": ({"OldPassword": "a", "NewPassword": "b"}, CALLER_ARN),
    "GetAccountPasswordPolicy": (ANY, "*"),
    "UpdateAccountPasswordPolicy": ({"MinimumPasswordLength": 8}, "*"),
    "DeleteAccountPasswordPolicy": (ANY, "*"),
    # virtual MFA devices: the device's ARN for the device, the user's ARN for what ties
    # a device to a user, nothing in particular for the account-wide listing
    "CreateVirtualMFADevice": ({"VirtualMFADeviceName": "phone", "Path": "/p/"}, MFA_NEW),
    "DeleteVirtualMFADevice": (ON_MFA, MFA),
    "TagMFADevice": ({**ON_MFA, "Tags": [{"Key": "k", "Value": "v"}]}, MFA),
    "UntagMFADevice": ({**ON_MFA, "TagKeys": ["k"]}, MFA),
    "ListMFADeviceTags": (ON_MFA, MFA),
    "EnableMFADevice": ({**USER, **ON_MFA, **CODES}, BOB),
    "ResyncMFADevice": ({**USER, **ON_MFA, **CODES}, BOB),
    "DeactivateMFADevice": (ON_MFA, CALLER_ARN),
    "ListMFADevices": (ANY, CALLER_ARN),
    "GetMFADevice": ({**USER, **ON_MFA}, BOB),
    "ListVirtualMFADevices": ({"AssignmentStatus": "Any"}, "*"),
    # account-wide
    "GetAccountSummary": (ANY, "*"),
    "GenerateCredentialReport": (ANY, "*"),
    "GetCredentialReport": (ANY, "*"),
    # the access advisor: Generate names the entity (a user, group, role or policy)
    "GenerateServiceLastAccessedDetails": ({"Arn": BOB}, BOB),
    "GetServiceLastAccessedDetails": ({"JobId": "j"}, "*"),
    "GetServiceLastAccessedDetailsWithEntities": (
        {"JobId": "j", "ServiceNamespace": "iam"},
        "*",
    ),
    # Organizations' report: AWS's access-report resource, the entity path in the account
    "GenerateOrganizationsAccessReport": (
        {"EntityPath": "o-a1b2c3d4e5/r-ab12/123456789012"},
        f"arn:aws:iam::{ACCOUNT}:access-report/o-a1b2c3d4e5/r-ab12/123456789012",
    ),
    "GetOrganizationsAccessReport": ({"JobId": "j"}, "*"),
    "ListPoliciesGrantingServiceAccess": ({"Arn": BOB, "ServiceNamespaces": ["s3"]}, "*"),
    "ListAccountAliases": (ANY, "*"),
    "CreateAccountAlias": ({"AccountAlias": "acme"}, "*"),
    "DeleteAccountAlias": ({"AccountAlias": "acme"}, "*"),
    "GetAccountAuthorizationDetails": (ANY, "*"),
    "SetSecurityTokenServicePreferences": ({"GlobalEndpointTokenVersion": "v2Token"}, "*"),
    "EnableOrganizationsRootCredentialsManagement": (ANY, "*"),
    "DisableOrganizationsRootCredentialsManagement": (ANY, "*"),
    "EnableOrganizationsRootSessions": (ANY, "*"),
    "DisableOrganizationsRootSessions": (ANY, "*"),
    "ListOrganizationsFeatures": (ANY, "*"),
    # simulation: the principal simulated; custom policies: nothing in particular
    "SimulatePrincipalPolicy": ({"PolicySourceArn": BOB, "ActionNames": ["iam:GetUser"]}, BOB),
    "SimulateCustomPolicy": ({"PolicyInputList": ["{}"], "ActionNames": ["s3:GetObject"]}, "*"),
    "GetContextKeysForPrincipalPolicy": ({"PolicySourceArn": DEVS}, DEVS),
    "GetContextKeysForCustomPolicy": ({"PolicyInputList": ["{}"]}, "*"),
    # outbound web identity federation: the account's switch, no resource type
    "EnableOutboundWebIdentityFederation": (ANY, "*"),
    "DisableOutboundWebIdentityFederation": (ANY, "*"),
    "GetOutboundWebIdentityFederationInfo": (ANY, "*"),
    # delegation requests: the request's ARN in the caller's account (both sides see it
    # there); creating and listing: nothing in particular; the summary: the entity's
    "CreateDelegationRequest": ({"Description": "d"}, "*"),
    "ListDelegationRequests": (ANY, "*"),
    "GetDelegationRequest": (ON_DELEGATION, DELEGATION_ARN),
    "AssociateDelegationRequest": (ON_DELEGATION, DELEGATION_ARN),
    "UpdateDelegationRequest": (ON_DELEGATION, DELEGATION_ARN),
    "AcceptDelegationRequest": (ON_DELEGATION, DELEGATION_ARN),
    "RejectDelegationRequest": (ON_DELEGATION, DELEGATION_ARN),
    "SendDelegationToken": (ON_DELEGATION, DELEGATION_ARN),
    "GetHumanReadableSummary": (
        {"EntityArn": "arn:aws:iam::210987654321:delegation-request/dr-0123456789abcdef"},
        DELEGATION_ARN,
    ),
}


# Operations of the IAM and STS models that iamd does not serve, with the reason; each
# answers NotImplemented (501) once the caller is authorized for it. The README's
# "Operations not served" lists the same.
NOT_SERVED: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_every_model_operation_is_served_or_not_served_with_a_reason(service: str) -> None:
    model = botocore.session.get_session().get_service_model(service)
    served = {op.name for op in TABLE if op.service == service}
    not_served = {name for (svc, name) in NOT_SERVED if svc == service}
    assert not served & not_served, f"served and listed as not served: {served & not_served}"
    assert served | not_served == set(model.operation_names), (
        f"neither served nor listed: {sorted(set(model.operation_names) - served - not_served)}; "
        f"not in the model: {sorted((served | not_served) - set(model.operation_names))}"
    )
    assert all(NOT_SERVED[(service, name)] for name in not_served)


@pytest.mark.parametrize("op", list(TABLE), ids=lambda op: op.action)
def test_every_operation_is_complete_and_modelled(op: Operation) -> None:
    # sso-admin's actions are sso:*, as AWS names them; every other model's prefix is its name.
    prefix = "sso" if op.service == "sso-admin" else op.service
    assert op.action == f"{prefix}:{op.name}"
    assert callable(op.handler)
    assert callable(op.resource)
    model = botocore.session.get_session().get_service_model(op.service)
    assert op.name in model.operation_names, f"{op.action} is not in botocore's model"


def test_every_iam_operation_served_has_its_expected_resource() -> None:
    served = {op.name for op in TABLE if op.service == "iam"}
    assert served == set(EXPECTED), (
        f"missing here: {sorted(served - set(EXPECTED))}; "
        f"no longer served: {sorted(set(EXPECTED) - served)}"
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_resource_is_the_arn_aws_authorizes(world: World, name: str) -> None:
    op = TABLE.get("iam", name)
    assert op is not None
    params, expected = EXPECTED[name]
    params = {k: (world.bob_key if v == KEY else v) for k, v in params.items()}
    assert op.resource(world.ctx, params) == expected


def test_service_linked_role_resources_of_unknown_services_and_bad_task_ids(
    world: World,
) -> None:
    create = TABLE.get("iam", "CreateServiceLinkedRole")
    status = TABLE.get("iam", "GetServiceLinkedRoleDeletionStatus")
    assert create is not None
    assert status is not None
    assert create.resource(world.ctx, {"AWSServiceName": "nosuch.amazonaws.com"}) == (
        f"{SERVICE_ROLES}/nosuch.amazonaws.com/*"
    )
    assert status.resource(world.ctx, {"DeletionTaskId": "not-a-task"}) == "*"


def test_named_caller_is_the_caller_and_unknown_names_take_the_default_path(
    world: World,
) -> None:
    create_key = TABLE.get("iam", "CreateAccessKey")
    assert create_key is not None
    # Naming oneself, in any case, is the same resource as omitting the name.
    assert create_key.resource(world.ctx, {"UserName": "CALLER"}) == CALLER_ARN
    # A user that does not exist is authorized at the default path, as AWS does before
    # it finds nothing.
    assert create_key.resource(world.ctx, {"UserName": "ghost"}) == (
        f"arn:aws:iam::{ACCOUNT}:user/ghost"
    )
    last_used = TABLE.get("iam", "GetAccessKeyLastUsed")
    assert last_used is not None
    assert last_used.resource(world.ctx, {"AccessKeyId": "AKIANOSUCHKEYANYWHERE"}) == "*"
    # A server certificate is found ignoring case; an unknown one has the default path.
    get_cert = TABLE.get("iam", "GetServerCertificate")
    assert get_cert is not None
    assert get_cert.resource(world.ctx, {"ServerCertificateName": "WEB"}) == WEB_CERT
    assert get_cert.resource(world.ctx, {"ServerCertificateName": "ghost"}) == (
        f"arn:aws:iam::{ACCOUNT}:server-certificate/ghost"
    )


def test_sts_operations_are_authorized_as_in_aws(world: World) -> None:
    served = {op.name: op for op in TABLE if op.service == "sts"}
    assert set(served) == {
        "GetCallerIdentity",
        "GetSessionToken",
        "GetAccessKeyInfo",
        "AssumeRole",
        "AssumeRoleWithWebIdentity",
        "AssumeRoleWithSAML",
        "GetFederationToken",
        "DecodeAuthorizationMessage",
        "GetWebIdentityToken",
        "AssumeRoot",
        "GetDelegatedAccessToken",
    }
    # Served unsigned, as AWS serves them: the token or assertion authenticates, the
    # role's trust policy alone authorizes.
    for name in ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"):
        assert served[name].anonymous is not None, name
        assert served[name].authorized_by_handler, name
        assert TABLE.served_unsigned(name) is served[name]
    assert TABLE.served_unsigned("AssumeRole") is None
    assert TABLE.served_unsigned("GetCallerIdentity") is None
    # No policy can deny these two.
    for name in ("GetCallerIdentity", "GetSessionToken"):
        assert served[name].always_allowed, name
        assert served[name].resource(world.ctx, {}) == "*"
    # GetAccessKeyInfo needs sts:GetAccessKeyInfo (no resource type).
    info = served["GetAccessKeyInfo"]
    assert not info.always_allowed
    assert not info.authorized_by_handler
    assert info.resource(world.ctx, {"AccessKeyId": "AKIAEXAMPLEEXAMPLE01"}) == "*"
    # AssumeRole weighs the role's trust policy with the caller's policies itself.
    assume = served["AssumeRole"]
    assert assume.authorized_by_handler
    assert not assume.always_allowed
    role = f"arn:aws:iam::{ACCOUNT}:role/ops/Deployer"
    assert assume.resource(world.ctx, {"RoleArn": role, "RoleSessionName": "s1"}) == role
    # DecodeAuthorizationMessage needs sts:DecodeAuthorizationMessage (no resource type).
    decode = served["DecodeAuthorizationMessage"]
    assert not decode.always_allowed
    assert not decode.authorized_by_handler
    assert decode.resource(world.ctx, {"EncodedMessage": "x"}) == "*"
    # GetFederationToken: on the federated user's ARN, by the pipeline's generic step.
    federate = served["GetFederationToken"]
    assert not federate.always_allowed
    assert not federate.authorized_by_handler
    assert federate.resource(world.ctx, {"Name": "bob"}) == (
        f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
    )
    # GetWebIdentityToken: sts:GetWebIdentityToken on "*", by the pipeline.
    token = served["GetWebIdentityToken"]
    assert not token.always_allowed
    assert not token.authorized_by_handler
    assert token.resource(world.ctx, {"Audience": ["a"], "SigningAlgorithm": "ES384"}) == "*"
    # GetDelegatedAccessToken: sts:GetDelegatedAccessToken on "*", by the pipeline (the
    # handler checks the token belongs to the caller's account).
    delegated = served["GetDelegatedAccessToken"]
    assert not delegated.always_allowed
    assert not delegated.authorized_by_handler
    assert delegated.resource(world.ctx, {"TradeInToken": "t"}) == "*"
    # AssumeRoot: sts:AssumeRoot on the target member account's root user, by the
    # pipeline (the organization's rules are the handler's).
    root = served["AssumeRoot"]
    assert not root.always_allowed
    assert not root.authorized_by_handler
    task = {"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}
    for target in ("210987654321", "arn:aws:iam::210987654321:root"):
        params = {"TargetPrincipal": target, "TaskPolicyArn": task}
        assert root.resource(world.ctx, params) == "arn:aws:iam::210987654321:root"


REPO = f"arn:aws:codecommit:us-east-1:{ACCOUNT}:MyDemoRepo"
ON_REPO = {"repositoryName": "MyDemoRepo"}
# CodeCommit: the repository's ARN in the request's region; listing is on "*".
CODECOMMIT_EXPECTED: dict[str, tuple[Params, str]] = {
    "CreateRepository": (ON_REPO, REPO),
    "GetRepository": (ON_REPO, REPO),
    "ListRepositories": (ANY, "*"),
    "UpdateRepositoryDescription": (ON_REPO, REPO),
    "DeleteRepository": (ON_REPO, REPO),
}


def test_every_codecommit_operation_served_has_its_expected_resource(world: World) -> None:
    served = {op.name for op in TABLE if op.service == "codecommit"}
    assert served == set(CODECOMMIT_EXPECTED)
    for name, (params, expected) in CODECOMMIT_EXPECTED.items():
        op = TABLE.get("codecommit", name)
        assert op is not None
        assert not op.always_allowed
        assert op.resource(world.ctx, params) == expected, name
