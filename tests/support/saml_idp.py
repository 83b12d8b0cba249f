"""A real SAML 2.0 identity provider for the tests: pysaml2's IdP (saml2.server.Server)
with its own freshly generated key and certificate, signing with xmlsec1."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
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
    ) -> None:
        """`lifetime_minutes` below -5 makes every response already expired (beyond
        the verifier's clock skew)."""
        directory.mkdir(parents=True, exist_ok=True)
        key, cert = _key_pair(directory, "idp")
        sp_files = []
        for index, sp in enumerate((AWS_SP, OTHER_SP)):
            sp_file = directory / f"sp-{index}.xml"
            sp_file.write_text(_SP_METADATA.replace("SP_ENTITY", sp))
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
                            "single_sign_on_service": [(f"{entity_id}/sso", BINDING_HTTP_POST)]
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
