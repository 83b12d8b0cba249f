"""The AWS managed policies iamd ships load, and look like AWS's."""

from __future__ import annotations

import json
import re
from datetime import UTC
from importlib import resources

import pytest

from iamd.aws_managed_policies import (
    AwsManagedPolicy,
    derive_policy_id,
    load_aws_managed_policies,
    policy_arn,
)

REQUIRED = {
    "AdministratorAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "IAMUserChangePassword",
    "IAMSelfManageServiceSpecificCredentials",
    "ReadOnlyAccess",
}

POLICY_ID = re.compile(r"^ANPA[A-Z2-7]{17}$")


def _data_files() -> list[str]:
    directory = resources.files("iamd").joinpath("data", "aws_managed_policies")
    return sorted(e.name for e in directory.iterdir() if e.name.endswith(".json"))


def _by_name() -> dict[str, AwsManagedPolicy]:
    return {p.name: p for p in load_aws_managed_policies()}


def test_every_data_file_loads() -> None:
    files = _data_files()
    policies = load_aws_managed_policies()
    assert len(policies) == len(files)
    assert [f"{p.name}.json" for p in policies] == sorted(f"{p.name}.json" for p in policies)
    assert {f"{p.name}.json" for p in policies} == set(files)


def test_sorted_by_name_and_cached() -> None:
    policies = load_aws_managed_policies()
    assert [p.name for p in policies] == sorted(p.name for p in policies)
    assert load_aws_managed_policies() is policies


def test_required_policies_present() -> None:
    assert set(_by_name()) >= REQUIRED


@pytest.mark.parametrize("policy", load_aws_managed_policies(), ids=lambda p: p.name)
def test_document_is_a_policy(policy: AwsManagedPolicy) -> None:
    document = json.loads(policy.document)
    assert document["Version"] == "2012-10-17"
    statements = document["Statement"]
    assert isinstance(statements, list)
    assert statements
    for statement in statements:
        assert statement["Effect"] in {"Allow", "Deny"}
        assert ("Action" in statement) != ("NotAction" in statement)
        assert "Resource" in statement
    assert policy.document == json.dumps(document, indent=4)


@pytest.mark.parametrize("policy", load_aws_managed_policies(), ids=lambda p: p.name)
def test_metadata(policy: AwsManagedPolicy) -> None:
    assert POLICY_ID.match(policy.policy_id)
    assert len(policy.policy_id) == 21
    assert policy.arn == f"arn:aws:iam::aws:policy{policy.path}{policy.name}"
    assert policy.path.startswith("/")
    assert policy.path.endswith("/")
    assert re.fullmatch(r"v\d+", policy.default_version_id)
    assert policy.create_date.tzinfo == UTC
    assert policy.update_date.tzinfo == UTC
    assert policy.create_date <= policy.update_date
    assert policy.description


def test_ids_and_arns_unique() -> None:
    policies = load_aws_managed_policies()
    assert len({p.policy_id for p in policies}) == len(policies)
    assert len({p.arn for p in policies}) == len(policies)


def test_data_files_are_complete() -> None:
    directory = resources.files("iamd").joinpath("data", "aws_managed_policies")
    for name in _data_files():
        raw = json.loads(directory.joinpath(name).read_text(encoding="utf-8"))
        assert raw["PolicyName"] + ".json" == name
        assert raw["IsAttachable"] is True
        assert raw["Source"].startswith("https://docs.aws.amazon.com/aws-managed-policy/")


def test_administrator_access_is_allow_everything() -> None:
    admin = _by_name()["AdministratorAccess"]
    assert json.loads(admin.document) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    assert admin.arn == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert admin.policy_id == "ANPAIWMBCKSKIEE64ZLYK"
    assert admin.default_version_id == "v1"


def test_trimmed_read_only_access_keeps_only_served_services() -> None:
    document = json.loads(_by_name()["ReadOnlyAccess"].document)
    served = {"iam", "sts", "sso", "sso-oidc", "identitystore", "codecommit"}
    actions = [a for s in document["Statement"] for a in s["Action"]]
    assert actions
    assert {a.split(":", 1)[0] for a in actions} <= served
    assert "iam:Get*" in actions
    assert "sts:GetCallerIdentity" in actions


def test_derived_id_is_stable_and_well_formed() -> None:
    derived = derive_policy_id("SomePolicy")
    assert derived == derive_policy_id("SomePolicy")
    assert derived != derive_policy_id("OtherPolicy")
    assert POLICY_ID.match(derived)


def test_policy_arn_with_path() -> None:
    assert (
        policy_arn("/job-function/", "ViewOnlyAccess")
        == "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    )
