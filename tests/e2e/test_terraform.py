"""Terraform with the hashicorp/aws provider against a real iamd: apply, plan with no
drift, update, plan again, destroy, and nothing left behind (checked with boto3).

The provider comes from the machine's filesystem mirror (/opt/tf-plugins), so `terraform
init` needs no network; init runs once for the module (the provider binary is large).
Terraform and the mirror are part of the machines this runs on: without them the test
fails and says what is missing, it does not skip. The configuration is
tests/e2e/terraform_config.tf; `TF_LOG=DEBUG` goes to terraform-debug.log in the work
directory, which the failure message names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tests.support.certificates import chain, issue, rsa_key
from tests.support.saml_idp import SamlIdp
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

pytestmark = pytest.mark.slow

TERRAFORM = Path(os.environ.get("IAMD_TEST_TERRAFORM", "/usr/local/bin/terraform"))
PROVIDER_MIRROR = Path(os.environ.get("IAMD_TEST_TF_PLUGINS", "/opt/tf-plugins"))
PROVIDER_DIR = "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"
CONFIG = Path(__file__).with_name("terraform_config.tf")
ACCOUNT = "123456789012"
SAML_UNTIL = "2030-01-01T00:00:00Z"

# Every IAM resource type the configuration manages (checked against the file, so the
# list cannot drift from it).
COVERED_RESOURCES = {
    "aws_iam_access_key",
    "aws_iam_account_alias",
    "aws_iam_account_password_policy",
    "aws_iam_group",
    "aws_iam_group_membership",
    "aws_iam_group_policy",
    "aws_iam_group_policy_attachment",
    "aws_iam_group_policy_attachments_exclusive",
    "aws_iam_instance_profile",
    "aws_iam_openid_connect_provider",
    "aws_iam_policy",
    "aws_iam_policy_attachment",
    "aws_iam_role",
    "aws_iam_role_policies_exclusive",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_iam_role_policy_attachments_exclusive",
    "aws_iam_saml_provider",
    "aws_iam_server_certificate",
    "aws_iam_service_linked_role",
    "aws_iam_service_specific_credential",
    "aws_iam_signing_certificate",
    "aws_iam_user",
    "aws_iam_user_group_membership",
    "aws_iam_user_login_profile",
    "aws_iam_user_policies_exclusive",
    "aws_iam_user_policy",
    "aws_iam_user_policy_attachment",
    "aws_iam_user_ssh_key",
    "aws_iam_virtual_mfa_device",
}
COVERED_DATA_SOURCES = {
    "aws_caller_identity",
    "aws_iam_account_alias",
    "aws_iam_group",
    "aws_iam_instance_profile",
    "aws_iam_policy",
    "aws_iam_policy_document",
    "aws_iam_role",
    "aws_iam_roles",
    "aws_iam_server_certificate",
    "aws_iam_session_context",
    "aws_iam_user",
    "aws_iam_users",
}


def _require_tools() -> None:
    problems = []
    if not os.access(TERRAFORM, os.X_OK):
        problems.append(f"terraform is not at {TERRAFORM} (set IAMD_TEST_TERRAFORM)")
    if not (PROVIDER_MIRROR / PROVIDER_DIR).is_dir():
        problems.append(
            f"the hashicorp/aws provider mirror is not at {PROVIDER_MIRROR / PROVIDER_DIR}"
            " (set IAMD_TEST_TF_PLUGINS)"
        )
    if problems:
        pytest.fail("; ".join(problems) + ": this machine is meant to have both")


@dataclass
class Terraform:
    workdir: Path
    env: dict[str, str]
    server: RunningServer

    @property
    def debug_log(self) -> Path:
        return self.workdir / "terraform-debug.log"

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(TERRAFORM), *args, "-no-color"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode not in ok:
            pytest.fail(
                f"terraform {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}\n"
                f"(debug log: {self.debug_log}; iamd log: {self.server.log_path})"
            )
        return result

    def apply(self, stage: str) -> None:
        self.run("apply", "-auto-approve", f"-var=stage={stage}")

    def assert_no_drift(self, stage: str) -> None:
        # -detailed-exitcode: 0 is no changes, 2 is changes pending.
        plan = self.run("plan", "-detailed-exitcode", f"-var=stage={stage}", ok=(0, 2))
        assert plan.returncode == 0, f"drift after apply ({stage}):\n{plan.stdout[-8000:]}"

    def outputs(self) -> dict[str, Any]:
        out = json.loads(self.run("output", "-json").stdout)
        return {name: value["value"] for name, value in out.items()}


def _write_inputs(workdir: Path) -> None:
    shutil.copy(CONFIG, workdir / "main.tf")
    ssh_key = rsa_key().public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    (workdir / "ssh_key.pub").write_bytes(ssh_key + b" tf@example\n")
    (workdir / "signing.pem").write_text(issue("tf-alice").pem)
    pki = chain("tf.example.com")
    (workdir / "server.pem").write_text(pki.leaf.pem)
    (workdir / "server.key").write_text(pki.leaf.key_pem)
    (workdir / "chain.pem").write_text(pki.chain_pem)
    # Two identity providers' metadata: the SAML provider's document changes in "two".
    # Both expire at the same moment: hashicorp/aws 5.100 does not read valid_until back
    # after UpdateSAMLProvider, so a changed date would show as an output change in the
    # next plan (against AWS as against iamd; the resource itself has no drift).
    for stage in ("one", "two"):
        idp = SamlIdp(workdir / f"idp-{stage}", entity_id=f"https://idp-{stage}.example.test/saml")
        document = idp.metadata.replace(
            "<ns0:EntityDescriptor ", f'<ns0:EntityDescriptor validUntil="{SAML_UNTIL}" ', 1
        )
        assert document != idp.metadata
        (workdir / f"saml-{stage}.xml").write_text(document)


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    _require_tools()
    base = tmp_path_factory.mktemp("terraform")
    server = start_server(base / "iamd")
    workdir = base / "work"
    workdir.mkdir()
    _write_inputs(workdir)
    cli_config = base / "terraform.rc"
    cli_config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{PROVIDER_MIRROR}"\n  }}\n'
        "}\n"
    )
    home = base / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "TF_LOG": "DEBUG",
        "TF_LOG_PATH": str(workdir / "terraform-debug.log"),
        "TF_VAR_endpoint": server.endpoint,
        "TF_VAR_access_key": ADMIN_KEY_ID,
        "TF_VAR_secret_key": ADMIN_SECRET,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
    }
    tf = Terraform(workdir, env, server)
    tf.run("init")
    try:
        yield tf
    finally:
        server.stop()


def _types_in(kind: str) -> set[str]:
    return set(re.findall(rf'^{kind} "([a-z0-9_]+)"', CONFIG.read_text(), re.MULTILINE))


def test_the_configuration_covers_the_listed_types() -> None:
    assert _types_in("resource") == COVERED_RESOURCES
    assert _types_in("data") == COVERED_DATA_SOURCES


def _names(iam: Any) -> dict[str, Any]:
    """Everything the configuration could leave behind, as boto3 lists it."""

    def pages(operation: str, key: str, **kwargs: Any) -> list[Any]:
        items: list[Any] = []
        for page in iam.get_paginator(operation).paginate(**kwargs):
            items.extend(page[key])
        return items

    try:
        password_policy: Any = iam.get_account_password_policy()["PasswordPolicy"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        password_policy = None
    return {
        "users": sorted(u["UserName"] for u in pages("list_users", "Users")),
        "groups": sorted(g["GroupName"] for g in pages("list_groups", "Groups")),
        "roles": sorted(r["RoleName"] for r in pages("list_roles", "Roles")),
        "policies": sorted(
            p["PolicyName"] for p in pages("list_policies", "Policies", Scope="Local")
        ),
        "instance_profiles": sorted(
            p["InstanceProfileName"] for p in pages("list_instance_profiles", "InstanceProfiles")
        ),
        "server_certificates": sorted(
            c["ServerCertificateName"]
            for c in pages("list_server_certificates", "ServerCertificateMetadataList")
        ),
        "mfa_devices": sorted(
            d["SerialNumber"] for d in pages("list_virtual_mfa_devices", "VirtualMFADevices")
        ),
        "aliases": iam.list_account_aliases()["AccountAliases"],
        "oidc_providers": sorted(
            p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        ),
        "saml_providers": sorted(p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]),
        "password_policy": password_policy,
    }


def test_apply_plan_update_destroy(terraform: Terraform) -> None:
    iam = terraform.server.client()
    before = _names(iam)

    terraform.apply("one")
    terraform.assert_no_drift("one")
    out = terraform.outputs()
    assert out["account_id"] == ACCOUNT
    assert out["alice"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/tf/tf-alice"
    assert out["alice"]["tags"] == {"team": "red"}
    assert out["role"]["max_session_duration"] == 3600
    assert out["service_linked_role"] == "AWSServiceRoleForAutoScaling_tf"
    assert json.loads(out["policy"]["policy"])["Statement"][0]["Sid"] == "ReadTheBucket"
    assert out["group_members"] == ["tf-alice"]
    assert out["instance_profile_role"] == "tf-app"
    assert out["server_certificate_arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/tf/tf-web"
    assert out["account_alias"] == "tf-account-one"
    assert out["users_under_tf"] == ["tf-alice"]
    assert out["roles_named_tf"] == ["tf-app"]
    assert out["session_issuer"] == out["caller_arn"]
    made = _names(iam)
    assert set(made["users"]) - set(before["users"]) == {"tf-alice", "tf-bob"}
    assert made["aliases"] == ["tf-account-one"]
    assert made["password_policy"]["MinimumPasswordLength"] == 14
    keys = iam.list_access_keys(UserName="tf-alice")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(out["access_key_id"], "Active")]
    oidc_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.ci.example.com/tf"
    assert out["oidc_provider"]["arn"] == oidc_arn
    assert out["oidc_provider"]["client_ids"] == ["sts.amazonaws.com"]
    assert out["saml_provider"]["arn"] == f"arn:aws:iam::{ACCOUNT}:saml-provider/tf-corp"
    assert out["saml_provider"]["valid_until"] == SAML_UNTIL
    assert out["git_credential"]["status"] == "Active"
    assert out["git_credential"]["user_name"].startswith("tf-alice-at-")
    git = iam.list_service_specific_credentials(UserName="tf-alice")["ServiceSpecificCredentials"]
    assert [(c["ServiceSpecificCredentialId"], c["Status"]) for c in git] == [
        (out["git_credential"]["id"], "Active")
    ]

    terraform.apply("two")
    terraform.assert_no_drift("two")
    out = terraform.outputs()
    assert out["alice"]["tags"] == {"team": "blue", "stage": "two"}
    assert out["role"]["description"] == "The application, second stage"
    assert out["role"]["max_session_duration"] == 7200
    assert out["group_members"] == ["tf-alice", "tf-bob"]
    assert out["account_alias"] == "tf-account-two"
    assert iam.list_account_aliases()["AccountAliases"] == ["tf-account-two"]
    role = iam.get_role(RoleName="tf-app")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/tf-boundary")
    devs = iam.get_group(GroupName="tf-devs")
    assert devs["Group"]["Path"] == "/tf/two/"
    assert sorted(u["UserName"] for u in devs["Users"]) == ["tf-alice", "tf-bob"]
    shared_arn = f"arn:aws:iam::{ACCOUNT}:policy/tf-shared"
    attached = iam.list_entities_for_policy(PolicyArn=shared_arn)
    assert [g["GroupName"] for g in attached["PolicyGroups"]] == ["tf-ops"]
    assert [u["UserName"] for u in attached["PolicyUsers"]] == ["tf-bob"]
    bob_groups = iam.list_groups_for_user(UserName="tf-bob")["Groups"]
    assert sorted(g["GroupName"] for g in bob_groups) == ["tf-devs", "tf-oncall", "tf-ops"]
    keys = iam.list_access_keys(UserName="tf-alice")["AccessKeyMetadata"]
    assert [k["Status"] for k in keys] == ["Inactive"]
    oidc = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)
    assert sorted(oidc["ClientIDList"]) == ["sts.amazonaws.com", "tf-second-client"]
    assert oidc["ThumbprintList"] == ["b" * 40]
    saml = iam.get_saml_provider(SAMLProviderArn=out["saml_provider"]["arn"])
    assert "idp-two.example.test" in saml["SAMLMetadataDocument"]
    git = iam.list_service_specific_credentials(UserName="tf-alice")["ServiceSpecificCredentials"]
    assert [c["Status"] for c in git] == ["Inactive"]

    terraform.run("destroy", "-auto-approve", "-var=stage=two")
    assert _names(iam) == before
