"""AssumeRoleWithWebIdentity with a provider whose certificate iamd's trust store does
not vouch for: AWS's thumbprint fallback, against npm's `oidc-provider`.

The test IdP serves over https a certificate of a CA that is in neither the system's
store nor `--oidc-ca-bundle` (which holds another CA), sending its certificate and the
CA's. The provider's thumbprint list decides: the SHA-1 of the top-most certificate the
server sends (the CA's) admits it, another thumbprint (the server's own certificate's,
a made-up one) does not, and a thumbprint set with UpdateOpenIDConnectProviderThumbprint
takes effect. The trust is the provider's own: another account's provider of the same
issuer, without that thumbprint, is not let in by this one's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from tests.server.iam_helpers import ACCOUNT
from tests.support.oidc_provider import Client, IdpCa, NodeOidcProvider, make_ca, signing_key
from tests.support.organizations import new_account
from tests.support.servers import RunningServer, free_port, start_server

pytestmark = pytest.mark.slow

SUBJECT = "repo:octo-org/app:ref:refs/heads/main"
AUDIENCE = "sts.amazonaws.com"
MISMATCH = "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"


def _sha1_of_pem(pem: bytes) -> str:
    """What `openssl x509 -fingerprint -sha1` prints, without the colons."""
    der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    return hashlib.sha1(der, usedforsecurity=False).hexdigest()


@dataclass
class World:
    server: RunningServer
    idp: NodeOidcProvider
    ca: IdpCa
    #: The thumbprint of the top-most certificate the IdP sends (its CA's).
    ca_thumbprint: str
    #: The thumbprint of the IdP's own certificate (not the top of the chain).
    leaf_thumbprint: str
    tmp: Path

    def sts(self) -> Any:
        return boto3.client(
            "sts",
            endpoint_url=self.server.endpoint,
            region_name="us-east-1",
            config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
        )

    def assume(self, role_arn: str) -> dict[str, Any]:
        response: dict[str, Any] = self.sts().assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="run-1", WebIdentityToken=self.idp.token(SUBJECT)
        )
        return response

    def refused(self, role_arn: str) -> tuple[str, str]:
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            self.assume(role_arn)
        error = raised.value.response["Error"]
        return str(error["Code"]), str(error["Message"])


def _trust(provider_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                }
            ],
        }
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("web-identity-thumbprints")
    # The bundle iamd is given holds a CA that issued nothing the IdP serves.
    trusted = make_ca(tmp / "trusted-ca")
    untrusted = make_ca(tmp / "untrusted-ca", serve_chain=True)
    idp = NodeOidcProvider(
        tmp / "idp", untrusted, free_port(), [Client(SUBJECT)], [signing_key("key-1")]
    )
    served = untrusted.cert_file.read_bytes()
    leaf_pem, ca_pem = (
        block + b"-----END CERTIFICATE-----\n"
        for block in served.split(b"-----END CERTIFICATE-----\n")[:2]
    )
    assert (
        x509.load_pem_x509_certificate(ca_pem).subject
        == x509.load_pem_x509_certificate(untrusted.ca_file.read_bytes()).subject
    )
    idp.start()
    try:
        server = start_server(tmp / "iamd", extra_args=["--oidc-ca-bundle", str(trusted.ca_file)])
        try:
            yield World(server, idp, untrusted, _sha1_of_pem(ca_pem), _sha1_of_pem(leaf_pem), tmp)
        finally:
            server.stop(timeout=3)
    finally:
        idp.stop()


def _provider_and_role(
    iam: Any, world: World, role: str, thumbprints: list[str]
) -> tuple[str, str]:
    """(the role's ARN, the provider's ARN): the account's provider for the test IdP,
    made or given `thumbprints`, and a role trusting it."""
    try:
        arn = str(
            iam.create_open_id_connect_provider(
                Url=world.idp.url, ClientIDList=[AUDIENCE], ThumbprintList=thumbprints
            )["OpenIDConnectProviderArn"]
        )
    except iam.exceptions.EntityAlreadyExistsException:
        host = world.idp.url.removeprefix("https://")
        listed = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        arn = next(p["Arn"] for p in listed if p["Arn"].endswith(f"oidc-provider/{host}"))
        iam.update_open_id_connect_provider_thumbprint(
            OpenIDConnectProviderArn=arn, ThumbprintList=thumbprints
        )
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=_trust(arn))["Role"]["Arn"]
    return str(role_arn), arn


def test_only_the_top_certificates_thumbprint_admits_an_untrusted_provider(
    world: World,
) -> None:
    iam = world.server.client("iam")
    role_arn, provider_arn = _provider_and_role(
        iam, world, "thumbprinted", [world.leaf_thumbprint, "0" * 40]
    )
    # The server's own certificate is not the top of the chain it sends: no match.
    assert world.refused(role_arn) == ("InvalidIdentityToken", MISMATCH)
    # The CA's thumbprint, upper case as `openssl x509 -fingerprint` prints it, set with
    # UpdateOpenIDConnectProviderThumbprint: in effect for the next request.
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=provider_arn,
        ThumbprintList=["0" * 40, world.ca_thumbprint.upper()],
    )
    response = world.assume(role_arn)
    assert response["Provider"] == provider_arn
    assert response["SubjectFromWebIdentityToken"] == SUBJECT
    credentials = response["Credentials"]
    caller = world.server.client(
        "sts",
        key_id=credentials["AccessKeyId"],
        secret=credentials["SecretAccessKey"],
        token=credentials["SessionToken"],
    ).get_caller_identity()
    assert caller["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/thumbprinted/run-1"
    # Taken away again: refused at once, although the keys were fetched a moment ago.
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=provider_arn, ThumbprintList=["1" * 40]
    )
    assert world.refused(role_arn) == ("InvalidIdentityToken", MISMATCH)
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=provider_arn, ThumbprintList=[world.ca_thumbprint]
    )
    assert world.assume(role_arn)["Provider"] == provider_arn


def _other_account(world: World) -> Any:
    """An IAM client of a second account of the organization."""
    organizations = world.server.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    account = new_account(organizations, "b@example.com", "team-b")
    admin = world.server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup",
    )["Credentials"]
    return world.server.client(
        "iam",
        key_id=admin["AccessKeyId"],
        secret=admin["SecretAccessKey"],
        token=admin["SessionToken"],
    )


def test_one_accounts_thumbprint_does_not_open_trust_for_another(world: World) -> None:
    iam_b = _other_account(world)
    role_b, provider_b = _provider_and_role(iam_b, world, "in-b", [])
    # Account A's provider of the same issuer trusts the certificate by its thumbprint,
    # and its role is assumed: the issuer's keys are now in iamd's cache.
    role_a, provider_a = _provider_and_role(
        world.server.client("iam"), world, "in-a", [world.ca_thumbprint]
    )
    assert world.assume(role_a)["Provider"] == provider_a
    # B's provider lists no thumbprint: still refused, A's trust is A's.
    assert world.refused(role_b) == ("InvalidIdentityToken", MISMATCH)
    # Nor does another thumbprint of B's, and B's own right one works.
    iam_b.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=provider_b, ThumbprintList=[world.leaf_thumbprint]
    )
    assert world.refused(role_b) == ("InvalidIdentityToken", MISMATCH)
    iam_b.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=provider_b, ThumbprintList=[world.ca_thumbprint]
    )
    assert world.assume(role_b)["Provider"] == provider_b


def test_the_host_name_is_checked_under_a_thumbprint(world: World) -> None:
    # A certificate of the CA whose thumbprint is listed, but for another host name than
    # the issuer's: the thumbprint does not excuse the name.
    other = make_ca(world.tmp / "other-name-ca", names=["idp.example.net"], serve_chain=True)
    idp = NodeOidcProvider(
        world.tmp / "other-name-idp", other, free_port(), [Client(SUBJECT)], [signing_key("k")]
    )
    idp.start()
    try:
        ca_thumbprint = _sha1_of_pem(other.ca_file.read_bytes())
        iam = world.server.client("iam")
        arn = iam.create_open_id_connect_provider(
            Url=idp.url, ClientIDList=[AUDIENCE], ThumbprintList=[ca_thumbprint]
        )["OpenIDConnectProviderArn"]
        role = iam.create_role(RoleName="other-name", AssumeRolePolicyDocument=_trust(arn))["Role"][
            "Arn"
        ]
        # The test's own client checks no host name either, to get a token at all.
        token = idp.token(SUBJECT, check_hostname=False)
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            world.sts().assume_role_with_web_identity(
                RoleArn=role, RoleSessionName="run-1", WebIdentityToken=token
            )
        error = raised.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("InvalidIdentityToken", MISMATCH)
        # Refused for the name, the thumbprint being right (the server's log says why).
        assert "no matching subjectAltName" in world.server.log_text()
    finally:
        idp.stop()
