"""SAML response verification against a real IdP (pysaml2, signing with xmlsec1):
what is signed is read, and every tampering, wrapping, replayed clock or foreign key is
refused."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.saml_idp import SamlIdp

from iamd.services.saml_assertions import (
    ROLE_ATTRIBUTE,
    SamlRejected,
    aws_name_qualifier,
    parse_metadata,
    verify_response,
)

ROLE = "arn:aws:iam::000000000000:role/saml-admin,arn:aws:iam::000000000000:saml-provider/corp"
ATTRS = {
    ROLE_ATTRIBUTE: [ROLE],
    "https://aws.amazon.com/SAML/Attributes/RoleSessionName": ["alice@example.test"],
}


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> SamlIdp:
    return SamlIdp(tmp_path_factory.mktemp("idp"))


@pytest.fixture(scope="module")
def certs(idp: SamlIdp) -> tuple[str, ...]:
    return parse_metadata(idp.metadata).signing_certificates


def _xml(response: str) -> str:
    return base64.b64decode(response).decode()


def _b64(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def _now() -> datetime:
    return datetime.now(UTC)


def test_metadata_gives_the_idp_and_its_signing_certificate(idp: SamlIdp) -> None:
    metadata = parse_metadata(idp.metadata)
    assert metadata.entity_id == idp.entity_id
    assert len(metadata.signing_certificates) == 1
    assert metadata.signing_certificates[0].startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize(
    "document",
    [
        "<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' entityID='x'/>",
        "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'boom'>]><x>&e;</x>",
        "not xml",
    ],
)
def test_metadata_without_an_idp_signing_key_is_refused(document: str) -> None:
    with pytest.raises(SamlRejected):
        parse_metadata(document)


@pytest.mark.parametrize(("response", "assertion"), [(True, False), (False, True), (True, True)])
def test_a_signed_response_verifies(
    idp: SamlIdp, certs: tuple[str, ...], response: bool, assertion: bool
) -> None:
    signed = idp.response("alice", ATTRS, sign_response=response, sign_assertion=assertion)
    verified = verify_response(signed, certs, _now())
    assert verified.subject == "alice"
    assert verified.subject_type == "persistent"
    assert verified.issuer == idp.entity_id
    assert verified.audiences == ("urn:amazon:webservices",)
    assert verified.attributes[ROLE_ATTRIBUTE] == (ROLE,)
    assert verified.not_on_or_after > _now()


def test_one_altered_attribute_breaks_the_signature(idp: SamlIdp, certs: tuple[str, ...]) -> None:
    xml = _xml(idp.response("alice", ATTRS))
    altered = xml.replace("role/saml-admin", "role/saml-adminX")
    assert altered != xml
    with pytest.raises(SamlRejected, match="does not verify"):
        verify_response(_b64(altered), certs, _now())


def test_another_key_is_refused(idp: SamlIdp, tmp_path: Path) -> None:
    other = SamlIdp(tmp_path / "other", entity_id=idp.entity_id)
    with pytest.raises(SamlRejected, match="does not verify"):
        verify_response(
            other.response("alice", ATTRS),
            parse_metadata(idp.metadata).signing_certificates,
            _now(),
        )


def test_a_stripped_signature_is_refused(idp: SamlIdp, certs: tuple[str, ...]) -> None:
    xml = _xml(idp.response("alice", ATTRS))
    stripped = re.sub(r"<ns2:Signature\b.*?</ns2:Signature>", "", xml, flags=re.S)
    assert "Signature" not in stripped
    with pytest.raises(SamlRejected, match="neither"):
        verify_response(_b64(stripped), certs, _now())


def test_expired_and_not_yet_valid(idp: SamlIdp, certs: tuple[str, ...]) -> None:
    signed = idp.response("alice", ATTRS)
    with pytest.raises(SamlRejected) as raised:
        verify_response(signed, certs, _now() + timedelta(hours=1))
    assert raised.value.expired
    with pytest.raises(SamlRejected, match="not yet valid"):
        verify_response(signed, certs, _now() - timedelta(hours=1))


def test_signature_wrapping_reads_only_the_signed_assertion(
    idp: SamlIdp, certs: tuple[str, ...]
) -> None:
    # The signed assertion is kept, an unsigned forged one (another subject) is put first.
    xml = _xml(idp.response("alice", ATTRS, sign_response=False, sign_assertion=True))
    match = re.search(r"<ns1:Assertion\b.*?</ns1:Assertion>", xml, flags=re.S)
    assert match is not None
    forged = re.sub(r"<ns2:Signature\b.*?</ns2:Signature>", "", match.group(0), flags=re.S)
    forged = forged.replace(">alice<", ">mallory<").replace('ID="', 'ID="forged-')
    wrapped = xml.replace(match.group(0), forged + match.group(0))
    with pytest.raises(SamlRejected):
        verify_response(_b64(wrapped), certs, _now())
    # Inside a signed Response, the forged assertion is outside the signed subtree's
    # single-assertion rule and the digest breaks.
    signed_response = _xml(idp.response("alice", ATTRS))
    inner = re.search(r"<ns1:Assertion\b.*?</ns1:Assertion>", signed_response, flags=re.S)
    assert inner is not None
    twice = signed_response.replace(
        inner.group(0), inner.group(0).replace(">alice<", ">mallory<") + inner.group(0)
    )
    with pytest.raises(SamlRejected):
        verify_response(_b64(twice), certs, _now())


def test_a_comment_in_name_id_cannot_shorten_the_subject(
    idp: SamlIdp, certs: tuple[str, ...]
) -> None:
    # The IdP signs "alice.evil@example.test"; a comment inserted after "alice" leaves the
    # canonical (comment-free) data, and so the signature, unchanged: what is read must
    # still be the whole signed value, never "alice".
    xml = _xml(idp.response("alice.evil@example.test", ATTRS))
    commented = xml.replace(">alice.evil@example.test<", ">alice<!---->.evil@example.test<")
    assert commented != xml
    verified = verify_response(_b64(commented), certs, _now())
    assert verified.subject == "alice.evil@example.test"


def test_not_base64_and_not_a_response(certs: tuple[str, ...]) -> None:
    with pytest.raises(SamlRejected):
        verify_response("%%%", certs, _now())
    with pytest.raises(SamlRejected, match="not a samlp:Response"):
        verify_response(_b64("<a/>"), certs, _now())


def test_name_qualifier_is_awss_hash() -> None:
    # BASE64(SHA1("https://example.com/saml" + "123456789012" + "/MySAMLIdP")), the
    # example of AWS's AssumeRoleWithSAML reference, computed once with openssl-like tools.
    assert (
        aws_name_qualifier("https://example.com/saml", "123456789012", "MySAMLIdP")
        == "1uAJanUnBc2XeUkHURMht+xam2c="
    )
