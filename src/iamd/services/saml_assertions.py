"""SAML 2.0: an IdP's metadata (its signing certificates) and a signed samlp:Response.

Parsing is hardened (no DTD, no entities, no network, no huge trees): a document with a
DOCTYPE is refused outright. The XML signature is checked by signxml (never by
canonicalization written here), and every later read is of the subtree the verifier
returns as signed, never of the document that came in: an unsigned assertion placed
beside a signed one (signature wrapping) is therefore never seen. The verifier's signed
data is canonical XML without comments, so a comment inside NameID cannot split the
value that is read from the one that was signed.

An EncryptedAssertion (`saml_encryption.py`) is opened with the provider's private keys:
inside a signed Response it is the signed ciphertext's plaintext (parsed with comments
dropped); in an unsigned Response the decrypted Assertion must carry its own signature,
verified as above.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped
from signxml import InvalidInput, InvalidSignature, XMLVerifier  # type: ignore[attr-defined]
from signxml.exceptions import SignXMLException

from iamd.services.saml_encryption import UNREADABLE, decrypt_assertion
from iamd.services.saml_xml import NS, SamlRejected, parse_xml, xml_parser

__all__ = ["NS", "SamlRejected", "parse_xml"]

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
AWS_AUDIENCE = "https://signin.aws.amazon.com/saml"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
SOURCE_IDENTITY_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
PRINCIPAL_TAG_PREFIX = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
TRANSITIVE_TAGS_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
# Clock skew tolerated on NotBefore / NotOnOrAfter.
CLOCK_SKEW = timedelta(minutes=5)


# -- metadata ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdpMetadata:
    entity_id: str
    # PEM certificates of the IdP's signing keys (use="signing" or no use at all).
    signing_certificates: tuple[str, ...]
    valid_until: datetime | None = None


def parse_metadata(document: str) -> IdpMetadata:
    """The IdP descriptor of a SAML metadata document, or SamlRejected."""
    root = parse_xml(document.encode())
    if root.tag == f"{{{NS['md']}}}EntityDescriptor":
        entities = [root]
    elif root.tag == f"{{{NS['md']}}}EntitiesDescriptor":
        entities = root.findall("md:EntityDescriptor", NS)
    else:
        raise SamlRejected("the root element is not md:EntityDescriptor")
    for entity in entities:
        idp = entity.find("md:IDPSSODescriptor", NS)
        if idp is None:
            continue
        certificates = []
        for descriptor in idp.findall("md:KeyDescriptor", NS):
            if descriptor.get("use") not in (None, "signing"):
                continue
            for cert in descriptor.iterfind(".//ds:X509Certificate", NS):
                body = "".join((cert.text or "").split())
                if body:
                    certificates.append(_pem(body))
        if not certificates:
            raise SamlRejected("the IDPSSODescriptor has no signing certificate")
        entity_id = entity.get("entityID")
        if not entity_id:
            raise SamlRejected("the EntityDescriptor has no entityID")
        valid_until = entity.get("validUntil") or root.get("validUntil")
        return IdpMetadata(
            entity_id, tuple(certificates), _instant(valid_until) if valid_until else None
        )
    raise SamlRejected("the document has no IDPSSODescriptor")


def _pem(base64_body: str) -> str:
    try:
        base64.b64decode(base64_body, validate=True)
    except binascii.Error as exc:
        raise SamlRejected("an X509Certificate is not base64") from exc
    lines = [base64_body[i : i + 64] for i in range(0, len(base64_body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def aws_name_qualifier(issuer: str, account_id: str, provider_name: str) -> str:
    """AssumeRoleWithSAML's NameQualifier (and `saml:namequalifier`), as AWS documents it:
    BASE64(SHA1(issuer + account id + "/" + the provider's friendly name))."""
    digest = hashlib.sha1(f"{issuer}{account_id}/{provider_name}".encode(), usedforsecurity=False)
    return base64.b64encode(digest.digest()).decode()


# -- responses ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    assertion_id: str
    issuer: str
    subject: str
    subject_type: str
    # The NameID's own NameQualifier attribute (not AWS's NameQualifier: see below).
    name_id_qualifier: str | None
    audiences: tuple[str, ...]
    recipients: tuple[str, ...]
    not_on_or_after: datetime
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The AuthnRequest the signed SubjectConfirmationData answers (SP-initiated sign-in).
    in_response_to: str | None = None


def decode_response(saml_response: str) -> etree._Element:
    try:
        raw = base64.b64decode("".join(saml_response.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SamlRejected("the SAMLAssertion is not base64") from exc
    return parse_xml(raw)


def verify_response(
    saml_response: str,
    certificates: Sequence[str],
    now: datetime,
    accepted_recipients: Sequence[str] = (AWS_AUDIENCE,),
    *,
    decryption_keys: Sequence[rsa.RSAPrivateKey] = (),
    require_encryption: bool = False,
) -> VerifiedAssertion:
    """Verify a base64 samlp:Response signed (Response or Assertion) by one of the
    certificates, and return what its signed assertion says. An EncryptedAssertion is
    opened with one of `decryption_keys`; `require_encryption` refuses a plain one."""
    root = decode_response(saml_response)
    if root.tag != f"{{{NS['samlp']}}}Response":
        raise SamlRejected("the document is not a samlp:Response")
    signed = _signed_assertion(root, certificates, decryption_keys, require_encryption)
    return _read_assertion(signed, now, accepted_recipients)


def _signed_assertion(
    root: etree._Element,
    certificates: Sequence[str],
    keys: Sequence[rsa.RSAPrivateKey],
    require_encryption: bool,
) -> etree._Element:
    signed_response = None
    if root.find("ds:Signature", NS) is not None:
        signed_response = _verify(root, certificates)
        if signed_response.tag != f"{{{NS['samlp']}}}Response":
            raise SamlRejected("the signature does not cover the Response")
        response = signed_response
    else:
        response = root
    status = response.find("samlp:Status/samlp:StatusCode", NS)
    if status is None or status.get("Value") != SUCCESS:
        raise SamlRejected("the Response's status is not Success")
    assertions = response.findall("saml:Assertion", NS)
    encrypted = response.findall("saml:EncryptedAssertion", NS)
    if len(assertions) + len(encrypted) != 1:
        raise SamlRejected("the Response must carry exactly one Assertion")
    if encrypted:
        if not keys:
            raise SamlRejected("the Assertion is encrypted and the provider has no private key")
        posted = root.findall("saml:EncryptedAssertion", NS)
        assertion = decrypt_assertion(
            encrypted[0], keys, posted[0].nsmap if len(posted) == 1 else None
        )
        if signed_response is not None and assertion.find("ds:Signature", NS) is None:
            # The Response's signature covers the ciphertext, and so what it decrypts to.
            return assertion
    else:
        if require_encryption:
            raise SamlRejected("the provider requires encrypted assertions")
        assertion = assertions[0]
        if signed_response is not None:
            return assertion
    if encrypted and signed_response is None:
        # Nothing signed the ciphertext, so anyone can alter it: whether what it decrypts
        # to verifies is answered like a decryption failure, or telling the two apart
        # would let a changed CBC ciphertext probe the plaintext (an oracle).
        try:
            return _assertion_signed(assertion, certificates)
        except SamlRejected:
            raise SamlRejected(UNREADABLE) from None
    return _assertion_signed(assertion, certificates)


def _assertion_signed(assertion: etree._Element, certificates: Sequence[str]) -> etree._Element:
    if assertion.find("ds:Signature", NS) is None:
        raise SamlRejected("neither the Response nor the Assertion is signed")
    signed = _verify(assertion, certificates)
    if signed.tag != f"{{{NS['saml']}}}Assertion":
        raise SamlRejected("the signature does not cover the Assertion")
    return signed


def _verify(element: etree._Element, certificates: Sequence[str]) -> etree._Element:
    """The subtree the signature covers, as the verifier re-parsed it from its canonical
    (comment-free) form; SamlRejected when no certificate verifies it."""
    # Standalone copy: the enveloped signature's reference must resolve inside it.
    data = etree.tostring(element)
    for certificate in certificates:
        try:
            result = XMLVerifier().verify(
                data, x509_cert=certificate, expect_references=1, parser=xml_parser()
            )
        except (InvalidSignature, InvalidInput, SignXMLException, ValueError):
            continue
        signed = result.signed_xml  # type: ignore[union-attr]
        if signed is None:
            continue
        return signed
    raise SamlRejected("the signature does not verify with the provider's certificates")


def _read_assertion(
    assertion: etree._Element, now: datetime, accepted_recipients: Sequence[str]
) -> VerifiedAssertion:
    assertion_id = assertion.get("ID")
    issuer = _text(assertion.find("saml:Issuer", NS))
    if not assertion_id or not issuer:
        raise SamlRejected("the Assertion has no ID or Issuer")
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    subject = _text(name_id)
    if name_id is None or not subject:
        raise SamlRejected("the Assertion has no Subject NameID")
    subject_type = _short_format(
        name_id.get("Format", "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")
    )
    conditions = assertion.find("saml:Conditions", NS)
    if conditions is None:
        raise SamlRejected("the Assertion has no Conditions")
    not_before = conditions.get("NotBefore")
    if not_before and now + CLOCK_SKEW < _instant(not_before):
        raise SamlRejected("the Assertion is not yet valid")
    limit = conditions.get("NotOnOrAfter")
    confirmation = assertion.find(
        "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS
    )
    confirmation_limit = None if confirmation is None else confirmation.get("NotOnOrAfter")
    limits = [_instant(v) for v in (limit, confirmation_limit) if v]
    if not limits:
        raise SamlRejected("the Assertion has no NotOnOrAfter")
    expiry = min(limits)
    if now - CLOCK_SKEW >= expiry:
        raise SamlRejected("Token is expired", expired=True)
    audiences = tuple(
        _text(a) for a in conditions.iterfind("saml:AudienceRestriction/saml:Audience", NS)
    )
    recipients = () if confirmation is None else (confirmation.get("Recipient") or "",)
    if recipients and recipients[0] and recipients[0] not in accepted_recipients:
        raise SamlRejected("the SubjectConfirmationData Recipient is not accepted")
    attributes: dict[str, tuple[str, ...]] = {}
    for attribute in assertion.iterfind("saml:AttributeStatement/saml:Attribute", NS):
        name = attribute.get("Name")
        if name:
            values = tuple(_text(v) for v in attribute.iterfind("saml:AttributeValue", NS))
            attributes[name] = attributes.get(name, ()) + values
    return VerifiedAssertion(
        assertion_id=assertion_id,
        issuer=issuer,
        subject=subject,
        subject_type=subject_type,
        name_id_qualifier=name_id.get("NameQualifier"),
        audiences=audiences,
        recipients=recipients,
        not_on_or_after=expiry,
        attributes=attributes,
        in_response_to=None if confirmation is None else confirmation.get("InResponseTo"),
    )


def _text(element: etree._Element | None) -> str:
    # The signed subtree has no comments left, so the whole text is one node.
    return "" if element is None else "".join(element.itertext()).strip()


def _short_format(name_format: str) -> str:
    """AWS's SubjectType: `persistent`, `transient`, or the full Format URI."""
    for short in ("persistent", "transient"):
        if name_format == f"urn:oasis:names:tc:SAML:2.0:nameid-format:{short}":
            return short
    return name_format


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SamlRejected(f"bad SAML instant {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
