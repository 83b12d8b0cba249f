"""An Identity Center instance whose users sign in at a test SAML IdP
(tests/support/saml_idp.py), its user `alice@example.com` and group `Engineers`
provisioned by SCIM, the group assigned permission set UserReaders (iam:ListUsers)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.support.saml_idp import SamlIdp
from tests.support.scim import ScimClient, create_scim_token
from tests.support.servers import RunningServer

LIST_USERS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}],
    }
)
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


@dataclass(frozen=True)
class Federated:
    server: RunningServer
    account: str
    instance: str
    store: str
    idp: SamlIdp
    idp_dir: Path
    sp_metadata: str
    metadata_file: Path
    scim: ScimClient

    @property
    def start_url(self) -> str:
        return f"https://{self.store}.awsapps.com/start"


def identity_source(
    server: RunningServer, instance: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "iamd", "identity-center", "set-identity-source"),
            *("--instance-arn", instance, *args, "--data-dir", str(server.data_dir)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def federate(server: RunningServer, base: Path, idp_entity_id: str | None = None) -> Federated:
    """Set the server's instance up as the module docstring says (the IdP's single
    sign-on URL is `<idp_entity_id>/sso/redirect`)."""
    admin = server.client("sso-admin")
    instance = admin.create_instance(Name="Corp")["InstanceArn"]
    store = admin.describe_instance(InstanceArn=instance)["IdentityStoreId"]
    account = server.client("sts").get_caller_identity()["Account"]
    # The identity provider provisions the user and the group by SCIM.
    scim = ScimClient(
        f"{server.endpoint}/{store}/scim/v2", create_scim_token(server, instance)["AccessToken"]
    )
    user = scim.call(
        "POST",
        "/Users",
        {
            "schemas": [USER_SCHEMA],
            "userName": "alice@example.com",
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "displayName": "Alice Liddell",
            "emails": [{"value": "alice@example.com", "type": "work", "primary": True}],
            "active": True,
        },
    )
    assert user.status == 201, user.document
    group = scim.call(
        "POST",
        "/Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "Engineers",
            "members": [{"value": user.document["id"]}],
        },
    )
    assert group.status == 201, group.document
    ps = admin.create_permission_set(InstanceArn=instance, Name="UserReaders")["PermissionSet"][
        "PermissionSetArn"
    ]
    admin.put_inline_policy_to_permission_set(
        InstanceArn=instance, PermissionSetArn=ps, InlinePolicy=LIST_USERS
    )
    status = admin.create_account_assignment(
        InstanceArn=instance,
        TargetId=account,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=ps,
        PrincipalType="GROUP",
        PrincipalId=group.document["id"],
    )["AccountAssignmentCreationStatus"]
    assert status["Status"] == "SUCCEEDED"
    with urllib.request.urlopen(  # noqa: S310 - the test's own server
        f"{server.endpoint}/saml/metadata?identity_store_id={store}", timeout=30
    ) as answer:
        sp_metadata = answer.read().decode()
    idp_dir = base / "idp"
    idp = SamlIdp(idp_dir, *((idp_entity_id,) if idp_entity_id else ()), sp_metadata=(sp_metadata,))
    metadata_file = base / "idp-metadata.xml"
    metadata_file.write_text(idp.metadata)
    done = identity_source(server, instance, "--saml-metadata", str(metadata_file))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["IdpEntityId"] == idp.entity_id
    return Federated(
        server, account, instance, store, idp, idp_dir, sp_metadata, metadata_file, scim
    )
