"""A real SAML 2.0 identity provider for the tests: pysaml2's IdP (saml2.server.Server)
with its own freshly generated key and certificate, signing and encrypting with xmlsec1.

Encrypted responses follow pysaml2's own order (sign the Assertion, wrap it in an
EncryptedAssertion, encrypt it for the service provider's certificate, sign the
Response) with the data algorithm chosen here: pysaml2's IdP path always picks 3DES,
which AWS does not take (AES-CBC or AES-GCM only)."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import sid
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.samlp import response_from_string
from saml2.server import Server
from saml2.sigver import (
    RSA_OAEP_MGF1P,
    pre_encrypt_assertion,
    pre_encryption_part,
    pre_signature_part,
    signed_instance_factory,
)
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

AWS_SP = "urn:amazon:webservices"
AWS_ACS = "https://signin.aws.amazon.com/saml"
# Another service provider the IdP knows, for responses addressed to someone else.
OTHER_SP = "urn:example:other-sp"

_SP_METADATA = f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="SP_ENTITY">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService index="1" isDefault="true"
      Binding="{BINDING_HTTP_POST}" Location="{AWS_ACS}"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


#: XML Encryption data algorithms and the xmlsec1 session key each needs.
AES256_CBC = ("http://www.w3.org/2001/04/xmlenc#aes256-cbc", "aes-256")
AES128_GCM = ("http://www.w3.org/2009/xmlenc11#aes128-gcm", "aes-128")


def key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """A fresh RSA key and a self-signed certificate for it, as PEM files."""
    return _key_pair(directory, name)


def _key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


class SamlIdp:
    def __init__(
        self,
        directory: Path,
        entity_id: str = "https://idp.example.test/saml",
        lifetime_minutes: int = 15,
        *,
        sp_metadata: tuple[str, ...] = (),
        key_files: tuple[Path, Path] | None = None,
    ) -> None:
        """`lifetime_minutes` below -5 makes every response already expired (beyond
        the verifier's clock skew). `sp_metadata`: more service providers the IdP knows
        (their metadata documents, e.g. an Identity Center instance's); `key_files`: sign
        with another IdP's key and certificate (the same provider, configured anew)."""
        directory.mkdir(parents=True, exist_ok=True)
        key, cert = key_files if key_files is not None else _key_pair(directory, "idp")
        self.key_files = (key, cert)
        sp_files = []
        for index, sp in enumerate((AWS_SP, OTHER_SP)):
            sp_file = directory / f"sp-{index}.xml"
            sp_file.write_text(_SP_METADATA.replace("SP_ENTITY", sp))
            sp_files.append(str(sp_file))
        for index, document in enumerate(sp_metadata):
            sp_file = directory / f"sp-extra-{index}.xml"
            sp_file.write_text(document)
            sp_files.append(str(sp_file))
        xmlsec = shutil.which("xmlsec1")
        assert xmlsec is not None, "scripts/ensure-system-deps.sh installs xmlsec1"
        config = IdPConfig()
        config.load(
            {
                "entityid": entity_id,
                "xmlsec_binary": xmlsec,
                "key_file": str(key),
                "cert_file": str(cert),
                "metadata": {"local": sp_files},
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{entity_id}/sso", BINDING_HTTP_POST),
                                (f"{entity_id}/sso/redirect", BINDING_HTTP_REDIRECT),
                            ]
                        },
                        "policy": {"default": {"lifetime": {"minutes": lifetime_minutes}}},
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    }
                },
            }
        )
        self.entity_id = entity_id
        self.server = Server(config=config)
        self.metadata = create_metadata_string(None, config=config, sign=False).decode()

    def response(
        self,
        subject: str,
        attributes: dict[str, list[str]],
        *,
        sign_response: bool = True,
        sign_assertion: bool = False,
        audience: str = AWS_SP,
    ) -> str:
        """A signed samlp:Response, base64 as the browser posts it."""
        xml = self.server.create_authn_response(
            identity=attributes,
            in_response_to=None,
            destination=AWS_ACS,
            sp_entity_id=audience,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=subject),
            sign_response=sign_response,
            sign_assertion=sign_assertion,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
        )
        return base64.b64encode(str(xml).encode()).decode()

    def answer_authn_request(
        self,
        saml_request: str,
        subject: str,
        *,
        audience: str | None = None,
        recipient: str | None = None,
    ) -> tuple[str, str]:
        """What the IdP posts back for a service provider's AuthnRequest (HTTP-Redirect
        binding, as the browser brings it): the assertion consumer URL and the signed
        Response (base64), in response to the request, for `audience` (default: the
        requester; `recipient`: another assertion consumer URL than the request's)."""
        parsed = self.server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
        request = parsed.message
        xml = self.server.create_authn_response(
            identity={},
            in_response_to=request.id,
            destination=recipient or request.assertion_consumer_service_url,
            sp_entity_id=audience or request.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=subject),
            sign_response=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
        )
        response = base64.b64encode(str(xml).encode()).decode()
        return request.assertion_consumer_service_url, response

    def encrypted_response(
        self,
        subject: str,
        attributes: dict[str, list[str]],
        encryption_certificate: Path,
        *,
        algorithm: tuple[str, str] = AES256_CBC,
        key_transport: str = RSA_OAEP_MGF1P,
        sign_response: bool = True,
        sign_assertion: bool = False,
    ) -> str:
        """A response whose Assertion is encrypted for `encryption_certificate` (RSA-OAEP
        key transport unless told otherwise), base64 as the browser posts it."""
        plain = self.server.create_authn_response(
            identity=attributes,
            in_response_to=None,
            destination=AWS_ACS,
            sp_entity_id=AWS_SP,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=subject),
            sign_response=False,
            sign_assertion=False,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
        )
        response = response_from_string(str(plain))
        sec = self.server.sec
        if sign_response:
            response.signature = pre_signature_part(
                response.id, sec.my_cert, 1, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
            )
        to_sign = []
        if sign_assertion:
            found = response.assertion
            assertion = found[0] if isinstance(found, list) else found
            assertion.signature = pre_signature_part(
                assertion.id, sec.my_cert, 2, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
            )
            to_sign.append(("urn:oasis:names:tc:SAML:2.0:assertion:Assertion", assertion.id))
        wrapped = pre_encrypt_assertion(response)
        signed = signed_instance_factory(wrapped, sec, to_sign)
        template = pre_encryption_part(
            msg_enc=algorithm[0],
            key_enc=key_transport,
            encrypted_key_id=f"EK_{sid()}",
            encrypted_data_id=f"ED_{sid()}",
        )
        xml = sec.encrypt_assertion(
            str(signed), str(encryption_certificate), template, key_type=algorithm[1]
        )
        if sign_response:
            xml = signed_instance_factory(
                xml, sec, [("urn:oasis:names:tc:SAML:2.0:protocol:Response", response.id)]
            )
        return base64.b64encode(str(xml).encode()).decode()
