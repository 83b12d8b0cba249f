"""Server certificates through boto3 against a real server: the checks of the body,
private key and chain, the operations, tags, the account summary, and the private key
found nowhere after upload (not in a response, the database files or the log)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import PrivateFormat
from tests.server.iam_helpers import ACCOUNT, all_pages, assert_recent_utc, error_of
from tests.support.certificates import Chain, Issued, chain, encrypted_key_pem, issue, key_pem
from tests.support.servers import RunningServer, start_server

SERVER_CERTIFICATE_ID = re.compile(r"ASCA[A-Z2-7]{17}")
MALFORMED_BODY = (
    400,
    "MalformedCertificate",
    "Unable to parse certificate. Please ensure the certificate is in PEM format.",
)
MALFORMED_KEY = (
    400,
    "MalformedCertificate",
    "Unable to parse private key. Please ensure the private key is in PEM format.",
)


def chain_error(index: int) -> tuple[int, str, str]:
    return (
        400,
        "MalformedCertificate",
        "Unable to validate certificate chain. The certificate chain must start with the "
        "immediate signing certificate, followed by any intermediaries in order. The index "
        f"within the chain of the invalid certificate is: {index}",
    )


@pytest.fixture(scope="module")
def pki() -> Chain:
    return chain("www.example.com")


def _upload(iam: Any, name: str, issued: Issued, **extra: Any) -> dict[str, Any]:
    return dict(
        iam.upload_server_certificate(
            ServerCertificateName=name,
            CertificateBody=issued.pem,
            PrivateKey=issued.key_pem,
            **extra,
        )
    )


def test_upload_get_update_delete(iam: Any, unique: str, pki: Chain) -> None:
    name = f"{unique}-web"
    uploaded = _upload(
        iam,
        name,
        pki.leaf,
        Path="/cloudfront/",
        CertificateChain=pki.chain_pem,
        Tags=[{"Key": "team", "Value": "web"}],
    )
    meta = uploaded["ServerCertificateMetadata"]
    assert meta["Path"] == "/cloudfront/"
    assert meta["ServerCertificateName"] == name
    assert SERVER_CERTIFICATE_ID.fullmatch(meta["ServerCertificateId"])
    assert meta["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/cloudfront/{name}"
    assert_recent_utc(meta["UploadDate"])
    assert meta["Expiration"] == pki.leaf.certificate.not_valid_after_utc
    assert uploaded["Tags"] == [{"Key": "team", "Value": "web"}]

    got = iam.get_server_certificate(ServerCertificateName=name.upper())["ServerCertificate"]
    assert got["ServerCertificateMetadata"] == meta
    # Without the PEM files' final newline, as AWS returns them.
    assert got["CertificateBody"] == pki.leaf.pem.strip()
    assert got["CertificateChain"] == pki.chain_pem.strip()
    assert got["Tags"] == [{"Key": "team", "Value": "web"}]
    assert "PrivateKey" not in got

    renamed = f"{unique}-www"
    iam.update_server_certificate(
        ServerCertificateName=name, NewServerCertificateName=renamed, NewPath="/elb/"
    )
    assert error_of(iam.get_server_certificate, ServerCertificateName=name) == (
        404,
        "NoSuchEntity",
        f"The Server Certificate with name {name} cannot be found.",
    )
    moved = iam.get_server_certificate(ServerCertificateName=renamed)["ServerCertificate"]
    moved_meta = moved["ServerCertificateMetadata"]
    assert moved_meta["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/elb/{renamed}"
    assert moved_meta["ServerCertificateId"] == meta["ServerCertificateId"]
    assert moved["Tags"] == [{"Key": "team", "Value": "web"}]

    iam.delete_server_certificate(ServerCertificateName=renamed)
    assert error_of(iam.delete_server_certificate, ServerCertificateName=renamed) == (
        404,
        "NoSuchEntity",
        f"The Server Certificate with name {renamed} cannot be found.",
    )


def test_the_body_and_chain_lose_their_surrounding_whitespace(
    iam: Any, unique: str, pki: Chain
) -> None:
    # Terraform's provider trims both before comparing with what GetServerCertificate
    # returns: AWS answers the trimmed text, and anything else is a replacement planned
    # on every run.
    name = f"{unique}-trim"
    iam.upload_server_certificate(
        ServerCertificateName=name,
        CertificateBody="\n " + pki.leaf.pem + "\n",
        PrivateKey=pki.leaf.key_pem,
        CertificateChain=pki.chain_pem + "\n\n",
    )
    got = iam.get_server_certificate(ServerCertificateName=name)["ServerCertificate"]
    assert got["CertificateBody"] == pki.leaf.pem.strip()
    assert got["CertificateBody"].endswith("-----END CERTIFICATE-----")
    assert got["CertificateChain"] == pki.chain_pem.strip()
    iam.delete_server_certificate(ServerCertificateName=name)


def test_a_self_signed_certificate_without_chain(iam: Any, unique: str) -> None:
    issued = issue("self.example.com")
    meta = _upload(iam, f"{unique}-self", issued)["ServerCertificateMetadata"]
    assert meta["Path"] == "/"
    got = iam.get_server_certificate(ServerCertificateName=f"{unique}-self")["ServerCertificate"]
    assert "CertificateChain" not in got
    assert "Tags" not in got


@pytest.mark.parametrize(
    "key_format", [PrivateFormat.PKCS8, PrivateFormat.TraditionalOpenSSL], ids=["pkcs8", "pkcs1"]
)
def test_rsa_keys_in_both_pem_forms_and_ec_keys(
    iam: Any, unique: str, key_format: PrivateFormat
) -> None:
    rsa_issued = issue("rsa.example.com")
    iam.upload_server_certificate(
        ServerCertificateName=f"{unique}-rsa",
        CertificateBody=rsa_issued.pem,
        PrivateKey=key_pem(rsa_issued.key, key_format),
    )
    ec_issued = issue("ec.example.com", key=ec.generate_private_key(ec.SECP256R1()))
    iam.upload_server_certificate(
        ServerCertificateName=f"{unique}-ec",
        CertificateBody=ec_issued.pem,
        PrivateKey=key_pem(ec_issued.key, key_format),
    )


def test_names_are_unique_ignoring_case(iam: Any, unique: str) -> None:
    issued = issue("dup.example.com")
    _upload(iam, f"{unique}-Dup", issued)
    assert error_of(
        iam.upload_server_certificate,
        ServerCertificateName=f"{unique}-DUP",
        CertificateBody=issued.pem,
        PrivateKey=issued.key_pem,
    ) == (
        409,
        "EntityAlreadyExists",
        f"The Server Certificate with name {unique}-DUP already exists.",
    )
    _upload(iam, f"{unique}-other", issued)
    assert error_of(
        iam.update_server_certificate,
        ServerCertificateName=f"{unique}-other",
        NewServerCertificateName=f"{unique}-dup",
    ) == (
        409,
        "EntityAlreadyExists",
        f"The Server Certificate with name {unique}-dup already exists.",
    )
    # Renaming to itself in another case is no conflict.
    iam.update_server_certificate(
        ServerCertificateName=f"{unique}-Dup", NewServerCertificateName=f"{unique}-dUP"
    )
    meta = iam.get_server_certificate(ServerCertificateName=f"{unique}-dup")["ServerCertificate"]
    assert meta["ServerCertificateMetadata"]["ServerCertificateName"] == f"{unique}-dUP"


def test_bodies_that_are_no_certificate(iam: Any, unique: str) -> None:
    issued = issue("x.example.com")
    for body in ("not a certificate", issued.key_pem, "-----BEGIN CERTIFICATE-----\nAAAA\n"):
        assert (
            error_of(
                iam.upload_server_certificate,
                ServerCertificateName=f"{unique}-bad",
                CertificateBody=body,
                PrivateKey=issued.key_pem,
            )
            == MALFORMED_BODY
        )


def test_certificates_outside_their_validity(iam: Any, unique: str) -> None:
    now = datetime.now(UTC)
    expired = issue("old", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
    future = issue("new", not_before=now + timedelta(days=1), not_after=now + timedelta(days=30))
    assert error_of(
        iam.upload_server_certificate,
        ServerCertificateName=f"{unique}-old",
        CertificateBody=expired.pem,
        PrivateKey=expired.key_pem,
    ) == (400, "MalformedCertificate", "The certificate has expired.")
    assert (
        error_of(
            iam.upload_server_certificate,
            ServerCertificateName=f"{unique}-new",
            CertificateBody=future.pem,
            PrivateKey=future.key_pem,
        )
        == MALFORMED_BODY
    )


def test_private_keys_that_cannot_be_used(iam: Any, unique: str) -> None:
    issued = issue("k.example.com")
    ed = ed25519.Ed25519PrivateKey.generate()
    for key in (
        "not a key",
        issued.pem,
        encrypted_key_pem(issued.key),
        key_pem(ed),  # type: ignore[arg-type]  # IAM takes RSA and ECDSA keys only
    ):
        assert (
            error_of(
                iam.upload_server_certificate,
                ServerCertificateName=f"{unique}-k",
                CertificateBody=issued.pem,
                PrivateKey=key,
            )
            == MALFORMED_KEY
        )


def test_a_key_of_another_certificate_is_a_mismatch(iam: Any, unique: str) -> None:
    mine, other = issue("mine.example.com"), issue("other.example.com")
    assert error_of(
        iam.upload_server_certificate,
        ServerCertificateName=f"{unique}-m",
        CertificateBody=mine.pem,
        PrivateKey=other.key_pem,
    ) == (
        400,
        "KeyPairMismatch",
        "Unable to validate certificate and private key. "
        "Please ensure that the certificate matches the private key.",
    )


def test_chains_that_do_not_certify_the_body(iam: Any, unique: str, pki: Chain) -> None:
    def attempt(chain_pem: str) -> tuple[int, str, str]:
        return error_of(
            iam.upload_server_certificate,
            ServerCertificateName=f"{unique}-c",
            CertificateBody=pki.leaf.pem,
            PrivateKey=pki.leaf.key_pem,
            CertificateChain=chain_pem,
        )

    # The root first: the body is not signed by the chain's first certificate.
    assert attempt(pki.root.pem + pki.intermediate.pem) == chain_error(-1)
    # The intermediate, then an unrelated CA: the intermediate (index 0) breaks.
    stranger = issue("Other Root", ca=True)
    assert attempt(pki.intermediate.pem + stranger.pem) == chain_error(0)
    assert attempt("no certificates here") == MALFORMED_BODY
    # The intermediate alone is a valid chain; so is intermediate + root.
    _upload(iam, f"{unique}-c1", pki.leaf, CertificateChain=pki.intermediate.pem)
    _upload(iam, f"{unique}-c2", pki.leaf, CertificateChain=pki.chain_pem)


def test_missing_certificates(iam: Any, unique: str) -> None:
    ghost = f"{unique}-ghost"
    missing = (404, "NoSuchEntity", f"The Server Certificate with name {ghost} cannot be found.")
    assert error_of(iam.get_server_certificate, ServerCertificateName=ghost) == missing
    assert error_of(iam.delete_server_certificate, ServerCertificateName=ghost) == missing
    assert (
        error_of(iam.update_server_certificate, ServerCertificateName=ghost, NewPath="/x/")
        == missing
    )
    assert (
        error_of(
            iam.tag_server_certificate,
            ServerCertificateName=ghost,
            Tags=[{"Key": "k", "Value": "v"}],
        )
        == missing
    )
    assert (
        error_of(iam.untag_server_certificate, ServerCertificateName=ghost, TagKeys=["k"])
        == missing
    )
    assert error_of(iam.list_server_certificate_tags, ServerCertificateName=ghost) == missing


def test_tags(iam: Any, unique: str) -> None:
    name = f"{unique}-t"
    _upload(iam, name, issue("t.example.com"))
    assert iam.list_server_certificate_tags(ServerCertificateName=name)["Tags"] == []
    iam.tag_server_certificate(
        ServerCertificateName=name,
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": "3"}],
    )
    iam.tag_server_certificate(ServerCertificateName=name, Tags=[{"Key": "A", "Value": "one"}])
    iam.untag_server_certificate(ServerCertificateName=name, TagKeys=["b", "absent"])
    listed = iam.list_server_certificate_tags(ServerCertificateName=name)
    assert listed["Tags"] == [{"Key": "c", "Value": "3"}, {"Key": "A", "Value": "one"}]
    tags, pages = all_pages(
        iam, "list_server_certificate_tags", "Tags", 1, ServerCertificateName=name
    )
    assert (tags, pages) == (listed["Tags"], 2)
    assert error_of(
        iam.tag_server_certificate,
        ServerCertificateName=name,
        Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}],
    ) == (
        400,
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(49)]
    assert error_of(iam.tag_server_certificate, ServerCertificateName=name, Tags=too_many) == (
        409,
        "LimitExceeded",
        "The number of tags has reached the maximum limit.",
    )


def test_listing_by_path_prefix_and_pages(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    issued = issue("l.example.com")
    for name, path in (("b", "/web/"), ("A", "/web/eu/"), ("c", "/api/"), ("d", "/")):
        _upload(iam, name, issued, Path=path)
    everything = iam.list_server_certificates()
    assert [m["ServerCertificateName"] for m in everything["ServerCertificateMetadataList"]] == [
        "A",
        "b",
        "c",
        "d",
    ]
    assert everything["IsTruncated"] is False
    web = iam.list_server_certificates(PathPrefix="/web/")["ServerCertificateMetadataList"]
    assert [m["ServerCertificateName"] for m in web] == ["A", "b"]
    assert all("Expiration" in m and "UploadDate" in m for m in web)
    items, pages = all_pages(iam, "list_server_certificates", "ServerCertificateMetadataList", 3)
    assert [m["ServerCertificateName"] for m in items] == ["A", "b", "c", "d"]
    assert pages == 2
    assert error_of(iam.list_server_certificates, Marker="bogus")[:2] == (400, "InvalidInput")


def test_account_quota_and_summary(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["ServerCertificates"], summary["ServerCertificatesQuota"]) == (0, 20)
    issued = issue("q.example.com")
    for n in range(20):
        _upload(iam, f"cert-{n}", issued)
    assert iam.get_account_summary()["SummaryMap"]["ServerCertificates"] == 20
    assert error_of(
        iam.upload_server_certificate,
        ServerCertificateName="one-too-many",
        CertificateBody=issued.pem,
        PrivateKey=issued.key_pem,
    ) == (409, "LimitExceeded", "Cannot exceed quota for ServerCertificatesPerAccount: 20")
    iam.delete_server_certificate(ServerCertificateName="cert-0")
    assert iam.get_account_summary()["SummaryMap"]["ServerCertificates"] == 19
    _upload(iam, "one-too-many", issued)


def _files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file())


def test_the_private_key_is_stored_sealed_and_never_shown(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    bodies: list[bytes] = []
    iam.meta.events.register(
        "after-call.iam", lambda http_response, **_: bodies.append(http_response.content)
    )
    issued = issue("secret.example.com")
    key_text = issued.key_pem
    _upload(iam, "sealed", issued, Tags=[{"Key": "k", "Value": "v"}])
    iam.get_server_certificate(ServerCertificateName="sealed")
    iam.list_server_certificates()
    # A failed upload (the key of another certificate) must not echo the key either.
    other = issue("other.example.com")
    error_of(
        iam.upload_server_certificate,
        ServerCertificateName="mismatch",
        CertificateBody=other.pem,
        PrivateKey=key_text,
    )
    error_of(
        iam.upload_server_certificate,
        ServerCertificateName="garbled",
        CertificateBody=issued.pem,
        PrivateKey=key_text[:200],
    )
    # Every line of the key's base64 body, and the body joined without line breaks.
    lines = [ln for ln in key_text.splitlines() if ln and not ln.startswith("-----")]
    needles = [ln.encode() for ln in lines[1:-1]] + ["".join(lines).encode()]
    assert len(bodies) >= 3
    for body in bodies:
        assert not any(needle in body for needle in needles)
    fresh_server.stop()
    # The search itself works: the certificate's (public) body is found in the database.
    body_line = issued.pem.splitlines()[5].encode()
    holding_body = []
    for path in _files(fresh_server.data_dir):
        content = path.read_bytes()
        if body_line in content:
            holding_body.append(path.name)
        for needle in needles:
            assert needle not in content, f"the private key is readable in {path.name}"
    assert any(name.startswith("iamd.sqlite3") for name in holding_body), holding_body
    assert fresh_server.log_path.is_file()
    assert fresh_server.log_path.stat().st_size > 0


def test_both_kinds_of_certificate_on_postgresql(fresh_postgres_url: str, tmp_path: Path) -> None:
    running = start_server(tmp_path / "pg", database_url=fresh_postgres_url)
    try:
        iam = running.client()
        issued = issue("pg.example.com")
        _upload(iam, "pg", issued, Path="/pg/", Tags=[{"Key": "k", "Value": "v"}])
        assert error_of(
            iam.upload_server_certificate,
            ServerCertificateName="PG",
            CertificateBody=issued.pem,
            PrivateKey=issued.key_pem,
        )[:2] == (409, "EntityAlreadyExists")
        iam.update_server_certificate(ServerCertificateName="pg", NewServerCertificateName="pg2")
        listed = iam.list_server_certificates(PathPrefix="/pg/")["ServerCertificateMetadataList"]
        assert [m["ServerCertificateName"] for m in listed] == ["pg2"]
        assert iam.list_server_certificate_tags(ServerCertificateName="pg2")["Tags"] == [
            {"Key": "k", "Value": "v"}
        ]
        iam.delete_server_certificate(ServerCertificateName="pg2")
        assert iam.get_account_summary()["SummaryMap"]["ServerCertificates"] == 0

        iam.create_user(UserName="signer")
        cert = iam.upload_signing_certificate(UserName="signer", CertificateBody=issued.pem)
        cert_id = cert["Certificate"]["CertificateId"]
        iam.update_signing_certificate(UserName="signer", CertificateId=cert_id, Status="Inactive")
        listed_certs = iam.list_signing_certificates(UserName="signer")["Certificates"]
        assert [c["Status"] for c in listed_certs] == ["Inactive"]
        iam.delete_signing_certificate(UserName="signer", CertificateId=cert_id)
        iam.delete_user(UserName="signer")
    finally:
        running.stop()


def test_a_private_key_outside_the_model_is_not_echoed(iam: Any, unique: str) -> None:
    issued = issue("echo.example.com")
    key_text = issued.key_pem + "\u0100"  # outside privateKeyType's pattern
    status, code, message = error_of(
        iam.upload_server_certificate,
        ServerCertificateName=f"{unique}-echo",
        CertificateBody=issued.pem,
        PrivateKey=key_text,
    )
    assert (status, code) == (400, "ValidationError")
    assert "privateKey" in message
    assert not any(line in message for line in key_text.splitlines()[1:-1])
