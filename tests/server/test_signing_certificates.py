"""Users' X.509 signing certificates through boto3 against a real server.

Certificates are made with `cryptography` (tests/support/certificates.py): valid ones,
expired ones, ones not yet valid, and text that is no certificate at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.server.iam_helpers import (
    all_pages,
    assert_recent_utc,
    bad_pattern,
    error_of,
    new_user_client,
    validation_message,
)
from tests.server.test_credential_report import generate_until_complete, report_rows
from tests.support.certificates import issue
from tests.support.servers import RunningServer

CERTIFICATE_ID = re.compile(r"[A-Z2-7]{32}")
MALFORMED = (
    400,
    "MalformedCertificate",
    "Unable to parse certificate. Please ensure the certificate is in PEM format.",
)


def _pem(name: str = "signer") -> str:
    return issue(name).pem


def test_upload_list_update_delete(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    body = _pem()
    uploaded = iam.upload_signing_certificate(UserName=user, CertificateBody=body)["Certificate"]
    assert uploaded["UserName"] == user
    assert CERTIFICATE_ID.fullmatch(uploaded["CertificateId"])
    assert uploaded["CertificateBody"] == body
    assert uploaded["Status"] == "Active"
    assert_recent_utc(uploaded["UploadDate"])

    listed = iam.list_signing_certificates(UserName=user)
    assert listed["IsTruncated"] is False
    assert listed["Certificates"] == [uploaded]

    cert_id = uploaded["CertificateId"]
    iam.update_signing_certificate(UserName=user, CertificateId=cert_id, Status="Inactive")
    assert iam.list_signing_certificates(UserName=user)["Certificates"][0]["Status"] == "Inactive"
    iam.update_signing_certificate(UserName=user, CertificateId=cert_id, Status="Active")
    assert iam.list_signing_certificates(UserName=user)["Certificates"][0]["Status"] == "Active"

    iam.delete_signing_certificate(UserName=user, CertificateId=cert_id)
    assert iam.list_signing_certificates(UserName=user)["Certificates"] == []
    assert error_of(iam.delete_signing_certificate, UserName=user, CertificateId=cert_id) == (
        404,
        "NoSuchEntity",
        f"The Certificate with id {cert_id} cannot be found.",
    )


def test_user_name_defaults_to_the_caller(server: RunningServer, iam: Any, unique: str) -> None:
    name = f"{unique}-self"
    client, _key = new_user_client(server, iam, name)
    uploaded = client.upload_signing_certificate(CertificateBody=_pem())["Certificate"]
    assert uploaded["UserName"] == name
    assert client.list_signing_certificates()["Certificates"] == [uploaded]
    cert_id = uploaded["CertificateId"]
    client.update_signing_certificate(CertificateId=cert_id, Status="Inactive")
    assert iam.list_signing_certificates(UserName=name)["Certificates"][0]["Status"] == "Inactive"
    client.delete_signing_certificate(CertificateId=cert_id)
    assert iam.list_signing_certificates(UserName=name)["Certificates"] == []


def test_at_most_two_per_user_active_or_not(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    first = iam.upload_signing_certificate(UserName=user, CertificateBody=_pem("a"))
    iam.update_signing_certificate(
        UserName=user, CertificateId=first["Certificate"]["CertificateId"], Status="Inactive"
    )
    iam.upload_signing_certificate(UserName=user, CertificateBody=_pem("b"))
    assert error_of(iam.upload_signing_certificate, UserName=user, CertificateBody=_pem("c")) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for SigningCertificatesPerUser: 2",
    )
    assert len(iam.list_signing_certificates(UserName=user)["Certificates"]) == 2


def test_the_same_certificate_belongs_to_one_user_of_the_account(iam: Any, unique: str) -> None:
    iam.create_user(UserName=f"{unique}-a")
    iam.create_user(UserName=f"{unique}-b")
    body = _pem()
    iam.upload_signing_certificate(UserName=f"{unique}-a", CertificateBody=body)
    duplicate = (
        409,
        "DuplicateCertificate",
        "The same certificate is already associated with an IAM user in the account.",
    )
    assert (
        error_of(iam.upload_signing_certificate, UserName=f"{unique}-a", CertificateBody=body)
        == duplicate
    )
    # Another user, and the same certificate with other line breaks: still the same one.
    rewrapped = body.replace("\n", "\r\n")
    assert (
        error_of(iam.upload_signing_certificate, UserName=f"{unique}-b", CertificateBody=rewrapped)
        == duplicate
    )
    assert iam.list_signing_certificates(UserName=f"{unique}-b")["Certificates"] == []


@pytest.mark.parametrize(
    "body",
    [
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n",
    ],
    ids=["text", "bad-der", "truncated"],
)
def test_text_that_is_no_certificate_is_malformed(iam: Any, unique: str, body: str) -> None:
    iam.create_user(UserName=f"{unique}-u")
    assert (
        error_of(iam.upload_signing_certificate, UserName=f"{unique}-u", CertificateBody=body)
        == MALFORMED
    )


def test_a_private_key_is_not_a_certificate(iam: Any, unique: str) -> None:
    iam.create_user(UserName=f"{unique}-u")
    key = issue("k").key_pem
    assert (
        error_of(iam.upload_signing_certificate, UserName=f"{unique}-u", CertificateBody=key)
        == MALFORMED
    )


def test_certificates_outside_their_validity_are_invalid(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    now = datetime.now(UTC)
    expired = issue("old", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
    future = issue("new", not_before=now + timedelta(days=1), not_after=now + timedelta(days=30))
    assert error_of(iam.upload_signing_certificate, UserName=user, CertificateBody=expired.pem) == (
        400,
        "InvalidCertificate",
        "The certificate has expired.",
    )
    assert error_of(iam.upload_signing_certificate, UserName=user, CertificateBody=future.pem) == (
        400,
        "InvalidCertificate",
        "The certificate is not yet valid.",
    )


def test_missing_users_and_certificates(iam: Any, unique: str) -> None:
    ghost = f"{unique}-ghost"
    no_user = (404, "NoSuchEntity", f"The user with name {ghost} cannot be found.")
    assert (
        error_of(iam.upload_signing_certificate, UserName=ghost, CertificateBody=_pem()) == no_user
    )
    assert error_of(iam.list_signing_certificates, UserName=ghost) == no_user
    cert_id = "A" * 32
    assert (
        error_of(
            iam.update_signing_certificate, UserName=ghost, CertificateId=cert_id, Status="Active"
        )
        == no_user
    )
    # Another user's certificate reads as one that does not exist.
    iam.create_user(UserName=f"{unique}-a")
    iam.create_user(UserName=f"{unique}-b")
    theirs = iam.upload_signing_certificate(UserName=f"{unique}-a", CertificateBody=_pem())
    their_id = theirs["Certificate"]["CertificateId"]
    for call, extra in (
        (iam.update_signing_certificate, {"Status": "Inactive"}),
        (iam.delete_signing_certificate, {}),
    ):
        assert error_of(call, UserName=f"{unique}-b", CertificateId=their_id, **extra) == (
            404,
            "NoSuchEntity",
            f"The Certificate with id {their_id} cannot be found.",
        )
    assert (
        iam.list_signing_certificates(UserName=f"{unique}-a")["Certificates"][0]["Status"]
        == "Active"
    )


def test_bad_parameters_answer_validation_errors(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    cert_id = iam.upload_signing_certificate(UserName=user, CertificateBody=_pem())["Certificate"][
        "CertificateId"
    ]
    status, code, message = error_of(
        iam.update_signing_certificate, UserName=user, CertificateId=cert_id, Status="Expired"
    )
    assert (status, code) == (400, "ValidationError")
    assert message == validation_message(
        "Expired", "status", "Member must satisfy enum value set: [Active, Inactive]"
    )
    bad_id = "A" * 23 + "-"
    status, code, message = error_of(
        iam.delete_signing_certificate, UserName=user, CertificateId=bad_id
    )
    assert (status, code) == (400, "ValidationError")
    assert message == bad_pattern(bad_id, "certificateId", r"[\w]+")


def test_listing_pages(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    ids = [
        iam.upload_signing_certificate(UserName=user, CertificateBody=_pem(n))["Certificate"][
            "CertificateId"
        ]
        for n in ("one", "two")
    ]
    items, pages = all_pages(iam, "list_signing_certificates", "Certificates", 1, UserName=user)
    assert [c["CertificateId"] for c in items] == ids
    assert pages == 2
    assert error_of(iam.list_signing_certificates, UserName=user, Marker="bogus")[:2] == (
        400,
        "InvalidInput",
    )


def test_delete_user_waits_for_its_signing_certificates(iam: Any, unique: str) -> None:
    user = f"{unique}-u"
    iam.create_user(UserName=user)
    cert_id = iam.upload_signing_certificate(UserName=user, CertificateBody=_pem())["Certificate"][
        "CertificateId"
    ]
    assert error_of(iam.delete_user, UserName=user) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete signing certificates first.",
    )
    iam.delete_signing_certificate(UserName=user, CertificateId=cert_id)
    iam.delete_user(UserName=user)


def test_credential_report_cert_columns(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    iam.create_user(UserName="one-cert")
    one = iam.upload_signing_certificate(UserName="one-cert", CertificateBody=_pem("1"))
    iam.create_user(UserName="two-certs")
    first = iam.upload_signing_certificate(UserName="two-certs", CertificateBody=_pem("2"))
    second = iam.upload_signing_certificate(UserName="two-certs", CertificateBody=_pem("3"))
    iam.update_signing_certificate(
        UserName="two-certs", CertificateId=first["Certificate"]["CertificateId"], Status="Inactive"
    )
    iam.create_user(UserName="none")
    generate_until_complete(iam)
    by_name = {row["user"]: row for row in report_rows(iam)}

    def stamp(uploaded: dict[str, Any]) -> str:
        return str(uploaded["Certificate"]["UploadDate"].isoformat(timespec="seconds"))

    row = by_name["one-cert"]
    assert (row["cert_1_active"], row["cert_1_last_rotated"]) == ("true", stamp(one))
    assert (row["cert_2_active"], row["cert_2_last_rotated"]) == ("false", "N/A")
    row = by_name["two-certs"]
    assert (row["cert_1_active"], row["cert_1_last_rotated"]) == ("false", stamp(first))
    assert (row["cert_2_active"], row["cert_2_last_rotated"]) == ("true", stamp(second))
    row = by_name["none"]
    assert (row["cert_1_active"], row["cert_1_last_rotated"]) == ("false", "N/A")
    assert (row["cert_2_active"], row["cert_2_last_rotated"]) == ("false", "N/A")
    root = by_name["<root_account>"]
    assert (root["cert_1_active"], root["cert_2_active"]) == ("false", "false")
