"""SimulatePrincipalPolicy with service control policies: the real operation on the real
services and database, with the organization source the server wires (a fixed one here:
a running server has no organization until the Organizations API is merged)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.local_services import ACCOUNT, MovableClock, local_services

from iamd.model.owners import OwnerKind
from iamd.operations.iam.simulation import simulate_custom_policy, simulate_principal_policy
from iamd.operations.registry import CallContext
from iamd.principals.credentials import user_caller
from iamd.principals.organization_policies import OrgFacts, ScpLevels


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


FULL_ACCESS = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
NO_CREATE = doc({"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"})
ONLY_S3 = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})


class Organization:
    def __init__(self, levels: ScpLevels | None) -> None:
        self.levels = levels

    def scp_levels(self, account_id: str) -> ScpLevels | None:
        return self.levels

    def org_facts(self, account_id: str) -> OrgFacts | None:
        return None if self.levels is None else ("o-abcdefghij", "o-abcdefghij/r-ab12/")


def simulate(tmp_path: Path, levels: ScpLevels | None, actions: list[str]) -> list[dict[str, Any]]:
    with local_services(tmp_path, MovableClock()) as services:
        user = services.users.create("dev", "/")
        services.inline_policies.put(OwnerKind.USER, "dev", "admin", FULL_ACCESS)
        services.policy_compiler.use_organization(Organization(levels))
        ctx = CallContext(
            caller=user_caller(ACCOUNT, user, "AKIADEVDEVDEVDEVDEV1"),
            services=services,
            request_id="r",
            region="us-east-1",
            source_ip="192.0.2.1",
        )
        out = simulate_principal_policy(ctx, {"PolicySourceArn": user.arn, "ActionNames": actions})
        custom = simulate_custom_policy(
            ctx, {"PolicyInputList": [FULL_ACCESS], "ActionNames": actions}
        )
    assert out is not None
    assert custom is not None
    # SimulateCustomPolicy simulates no principal, so no account's SCPs apply to it.
    assert all("OrganizationsDecisionDetail" not in r for r in custom["EvaluationResults"])
    assert all(r["EvalDecision"] == "allowed" for r in custom["EvaluationResults"])
    results: list[dict[str, Any]] = out["EvaluationResults"]
    return results


def test_scps_decide_and_are_reported(tmp_path: Path) -> None:
    results = simulate(
        tmp_path,
        ((FULL_ACCESS,), (FULL_ACCESS, NO_CREATE)),
        ["iam:GetUser", "iam:CreateUser"],
    )
    by_action = {r["EvalActionName"]: r for r in results}
    get, create = by_action["iam:GetUser"], by_action["iam:CreateUser"]
    assert get["EvalDecision"] == "allowed"
    assert get["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    # The SCP statement is not a MatchedStatement: AWS's PolicySourceType has no SCP.
    assert [m["SourcePolicyType"] for m in get["MatchedStatements"]] == ["user"]
    assert create["EvalDecision"] == "explicitDeny"
    assert create["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    assert create["MatchedStatements"] == []


def test_a_level_that_does_not_allow(tmp_path: Path) -> None:
    [result] = simulate(tmp_path, ((FULL_ACCESS,), (ONLY_S3,)), ["iam:GetUser"])
    assert result["EvalDecision"] == "implicitDeny"
    assert result["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}


def test_no_organization_no_detail(tmp_path: Path) -> None:
    [result] = simulate(tmp_path, None, ["iam:CreateUser"])
    assert result["EvalDecision"] == "allowed"
    assert "OrganizationsDecisionDetail" not in result
