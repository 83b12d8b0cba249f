"""The authorization step with accounts: SCPs applied by `PolicyAuthorizer` and by
sts:AssumeRole's authorization with AWS's messages, the account condition keys, the
organization source seam (`PolicyCompiler`, `with_organization`), and two-sided
cross-account trust, all on real objects: a Caller of account A, a Role of account B."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from iamd.authz import AuthorizationRequest, PolicyAuthorizer, request_context
from iamd.authz.assume_role import authorize_assume_role
from iamd.errors import AccessDenied
from iamd.model import AccessKeyStatus, Role, User
from iamd.policy import PolicyKind
from iamd.principals.credentials import (
    ResolvedCredential,
    principal_keys,
    user_caller,
    with_organization,
)
from iamd.principals.organization_policies import OrgFacts, ScpLevels
from iamd.principals.principal_policies import PolicyCompiler, PrincipalPolicies

A = "111111111111"
B = "222222222222"
ALICE = f"arn:aws:iam::{A}:user/alice"
ROLE_B = f"arn:aws:iam::{B}:role/Deployer"
ROLE_A = f"arn:aws:iam::{A}:role/Deployer"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any = "*", resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action: Any = "*", resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


FULL_ACCESS = doc(allow())


class Organization:
    """An organization source as the Organizations service will be: fixed answers."""

    def __init__(self, levels: ScpLevels | None, facts: OrgFacts | None = None) -> None:
        self.levels = levels
        self.facts = facts
        self.asked: list[str] = []

    def scp_levels(self, account_id: str) -> ScpLevels | None:
        self.asked.append(account_id)
        return self.levels

    def org_facts(self, account_id: str) -> OrgFacts | None:
        return self.facts


def alice(
    *identity: str,
    organization: Organization | None = None,
    compiler: PolicyCompiler | None = None,
) -> ResolvedCredential:
    """alice of account A with `identity` policies, resolved as `CredentialResolver`
    resolves a key (the organization's SCPs and keys added by `with_organization`)."""
    compiler = compiler or PolicyCompiler(organization=organization)
    user = User("AIDAALICEALICEALICE1", "alice", "/", ALICE, datetime.now(UTC))
    caller = user_caller(A, user, "AKIAALICEALICEALICE1")
    policies = PrincipalPolicies.of(
        [compiler.compile(d, PolicyKind.IDENTITY, f"p{n}") for n, d in enumerate(identity)], None
    )
    resolved = ResolvedCredential(
        access_key_id="AKIAALICEALICEALICE1",
        secret_access_key="secret",
        status=AccessKeyStatus.ACTIVE,
        caller=caller,
        policies=policies,
        principal_keys={**principal_keys(caller)},
    )
    return with_organization(compiler, resolved)


def request(
    credential: ResolvedCredential, action: str, resource: str, **keys: str
) -> AuthorizationRequest:
    return AuthorizationRequest(
        credential=credential,
        action=action,
        resource=resource,
        source_ip="192.0.2.1",
        user_agent="tests",
        secure_transport=True,
        region="us-east-1",
        now=datetime.now(UTC),
        request_keys=keys,
    )


def denial(credential: ResolvedCredential, action: str, resource: str) -> str:
    with pytest.raises(AccessDenied) as caught:
        PolicyAuthorizer().authorize(request(credential, action, resource))
    return caught.value.message


NEW_USER = f"arn:aws:iam::{A}:user/new"

# ------------------------------------------------------------------ SCPs in the authorizer


def test_without_an_organization_nothing_changes() -> None:
    credential = alice(FULL_ACCESS)
    assert credential.policies.scps is None
    assert "aws:PrincipalOrgID" not in credential.principal_keys
    PolicyAuthorizer().authorize(request(credential, "iam:CreateUser", NEW_USER))


def test_an_scp_deny_is_named_in_the_message() -> None:
    org = Organization(((FULL_ACCESS,), (FULL_ACCESS, doc(deny("iam:CreateUser")))))
    credential = alice(FULL_ACCESS, organization=org)
    assert org.asked == [A]
    assert denial(credential, "iam:CreateUser", NEW_USER) == (
        f"User: {ALICE} is not authorized to perform: iam:CreateUser on resource: {NEW_USER} "
        "with an explicit deny in a service control policy"
    )
    PolicyAuthorizer().authorize(request(credential, "iam:GetUser", NEW_USER))


def test_a_level_that_does_not_allow_is_named_in_the_message() -> None:
    org = Organization(((FULL_ACCESS,), (doc(allow("s3:*")),)))
    credential = alice(FULL_ACCESS, organization=org)
    assert denial(credential, "iam:CreateUser", NEW_USER) == (
        f"User: {ALICE} is not authorized to perform: iam:CreateUser on resource: {NEW_USER} "
        "because no service control policy allows the iam:CreateUser action"
    )


def test_an_identity_denial_under_permissive_scps_keeps_its_own_message() -> None:
    credential = alice(doc(allow("s3:*")), organization=Organization(((FULL_ACCESS,),)))
    assert denial(credential, "iam:CreateUser", NEW_USER).endswith(
        "because no identity-based policy allows the iam:CreateUser action"
    )


def test_the_account_grant_does_not_pass_an_scp() -> None:
    org = Organization(((doc(allow("s3:*")),),))
    credential = alice(organization=org)
    authorizer = PolicyAuthorizer(account_grant=lambda _request: True)
    with pytest.raises(AccessDenied):
        authorizer.authorize(request(credential, "iam:ChangePassword", ALICE))
    PolicyAuthorizer(account_grant=lambda _request: True).authorize(
        request(alice(), "iam:ChangePassword", ALICE)
    )


def test_scps_compile_once_through_the_policy_cache() -> None:
    org = Organization(((FULL_ACCESS,), (FULL_ACCESS,)))
    compiler = PolicyCompiler(organization=org)
    first = compiler.scps_for(A)
    second = compiler.scps_for(B)
    assert first is not None
    assert second is not None
    assert first[0][0] is first[1][0] is second[0][0]


def test_the_compiler_uses_the_source_it_is_given_at_wiring() -> None:
    compiler = PolicyCompiler()
    assert compiler.scps_for(A) is None
    assert compiler.org_facts(A) is None
    compiler.use_organization(Organization(((FULL_ACCESS,),), ("o-abcdefghij", "o-x/r-ab12/")))
    assert compiler.scps_for(A) is not None
    assert compiler.org_facts(A) == ("o-abcdefghij", "o-x/r-ab12/")


# ------------------------------------------------------------------ context keys


def test_account_and_organization_keys_are_in_the_context() -> None:
    org = Organization(
        ((FULL_ACCESS,),), ("o-abcdefghij", ("o-abcdefghij/r-ab12/ou-ab12-11111111/",))
    )
    context = request_context(request(alice(organization=org), "iam:GetUser", NEW_USER))
    assert context.values("aws:principalaccount") == (A,)
    assert context.values("aws:resourceaccount") == (A,)
    assert context.values("aws:principalisawsservice") == ("false",)
    assert context.values("aws:principalorgid") == ("o-abcdefghij",)
    assert context.values("aws:principalorgpaths") == ("o-abcdefghij/r-ab12/ou-ab12-11111111/",)
    # Multivalued even with one path: ForAnyValue applies, a policy variable does not.
    assert context.variable("aws:principalorgpaths") is None


def test_keys_absent_when_they_do_not_apply() -> None:
    context = request_context(request(alice(), "iam:ListUsers", "*"))
    assert not context.has("aws:ResourceAccount")
    assert not context.has("aws:PrincipalOrgID")
    assert not context.has("aws:PrincipalOrgPaths")
    managed = request_context(
        request(alice(), "iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    )
    assert not managed.has("aws:ResourceAccount")
    other = request_context(request(alice(), "sts:AssumeRole", ROLE_B))
    assert other.values("aws:resourceaccount") == (B,)


def test_an_scp_can_hold_to_the_organization_by_its_keys() -> None:
    # The classic data-perimeter SCP: deny unless the resource is in the caller's account.
    perimeter = doc(
        allow(),
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
        },
    )
    credential = alice(FULL_ACCESS, organization=Organization(((perimeter,),)))
    PolicyAuthorizer().authorize(request(credential, "iam:GetUser", NEW_USER))
    assert denial(credential, "iam:GetRole", ROLE_B).endswith(
        "with an explicit deny in a service control policy"
    )


# ------------------------------------------------------------------ AssumeRole


def role(arn: str, principal: Any) -> Role:
    trust = doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
    return Role(
        role_id="AROADEPLOYERDEPLOYER1",
        name="Deployer",
        path="/",
        arn=arn,
        create_date=datetime.now(UTC),
        assume_role_policy=trust,
    )


def assume(credential: ResolvedCredential, target: Role | None, arn: str = ROLE_B) -> str | None:
    """None when permitted, else the AccessDenied message."""
    try:
        authorize_assume_role(request(credential, "sts:AssumeRole", arn), target)
    except AccessDenied as refused:
        return refused.message
    return None


PLAIN = f"User: {ALICE} is not authorized to perform: sts:AssumeRole on resource: {ROLE_B}"
MAY_ASSUME_B = doc(allow("sts:AssumeRole", ROLE_B))


def test_cross_account_needs_the_trust_policy_and_the_callers_own_policy() -> None:
    for principal in ({"AWS": f"arn:aws:iam::{A}:root"}, {"AWS": A}, {"AWS": ALICE}):
        trusting = role(ROLE_B, principal)
        # Trust alone is not enough across accounts, even when it names alice's ARN.
        assert assume(alice(), trusting) == PLAIN
        assert assume(alice(MAY_ASSUME_B), trusting) is None
        # An identity policy for another role does not help.
        assert assume(alice(doc(allow("sts:AssumeRole", ROLE_A))), trusting) == PLAIN


def test_cross_account_needs_the_trust_policy_too() -> None:
    assert assume(alice(MAY_ASSUME_B), role(ROLE_B, {"AWS": B})) == PLAIN
    assert assume(alice(FULL_ACCESS), None) == PLAIN


def test_within_an_account_a_trust_policy_naming_the_caller_grants_alone() -> None:
    plain_a = PLAIN.replace(ROLE_B, ROLE_A)
    assert assume(alice(), role(ROLE_A, {"AWS": ALICE}), ROLE_A) is None
    # Trusting the account root still needs the identity policy.
    assert assume(alice(), role(ROLE_A, {"AWS": A}), ROLE_A) == plain_a
    assert assume(alice(doc(allow("sts:AssumeRole"))), role(ROLE_A, {"AWS": A}), ROLE_A) is None


def test_scps_restrict_assume_role_whether_or_not_the_role_exists() -> None:
    org = Organization(((FULL_ACCESS, doc(deny("sts:AssumeRole"))),))
    credential = alice(MAY_ASSUME_B, organization=org)
    scp_denied = PLAIN + " with an explicit deny in a service control policy"
    assert assume(credential, role(ROLE_B, {"AWS": A})) == scp_denied
    assert assume(credential, None) == scp_denied
    narrow = alice(MAY_ASSUME_B, organization=Organization(((doc(allow("iam:*")),),)))
    assert assume(narrow, role(ROLE_B, {"AWS": A})) == (
        PLAIN + " because no service control policy allows the sts:AssumeRole action"
    )
    permitted = alice(MAY_ASSUME_B, organization=Organization(((FULL_ACCESS,),)))
    assert assume(permitted, role(ROLE_B, {"AWS": A})) is None
