"""SAML encrypted assertions: a `saml:EncryptedAssertion` opened with a provider's
private key (XML Encryption 1.0/1.1, as IdPs send it to AWS).

What is read: one `xenc:EncryptedData` of Type Element (or no Type) whose key is an
`xenc:EncryptedKey` in its KeyInfo or beside it in the EncryptedAssertion; the key is
RSA-OAEP-wrapped (`rsa-oaep-mgf1p`, or xmlenc 1.1 `rsa-oaep` with its DigestMethod and
MGF), the data AES-CBC or AES-GCM. RSA PKCS#1 v1.5 key transport is refused (it is an
oracle for the key: Bleichenbacher), and so are 3DES, CipherReference and everything
else. This is decryption of octets with `cryptography`, not XML canonicalization:
nothing here decides what was signed. The plaintext is parsed like any untrusted XML
(no DTD, no entities) with comments dropped, and must be exactly one `saml:Assertion`.

Every failure, from a malformed structure to a wrong key, bad padding or a plaintext
that is not XML, is the one `SamlRejected` message: an answer that told them apart
would be the CBC padding oracle of "How to break XML encryption" (Jager, Somorovsky).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped

from iamd.services.saml_xml import NS, SamlRejected, parse_xml

XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
_NS = {**NS, "xenc": XENC, "xenc11": XENC11}
UNREADABLE = "the EncryptedAssertion could not be decrypted"

_CBC_KEY_BYTES = {f"{XENC}aes128-cbc": 16, f"{XENC}aes192-cbc": 24, f"{XENC}aes256-cbc": 32}
_GCM_KEY_BYTES = {f"{XENC11}aes128-gcm": 16, f"{XENC11}aes192-gcm": 24, f"{XENC11}aes256-gcm": 32}
_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "http://www.w3.org/2000/09/xmldsig#sha1": hashes.SHA1,
    "http://www.w3.org/2001/04/xmlenc#sha256": hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashes.SHA512,
}
_MGFS: dict[str, type[hashes.HashAlgorithm]] = {
    f"{XENC11}mgf1sha1": hashes.SHA1,
    f"{XENC11}mgf1sha256": hashes.SHA256,
    f"{XENC11}mgf1sha384": hashes.SHA384,
    f"{XENC11}mgf1sha512": hashes.SHA512,
}
# A SAML assertion is far smaller; this bounds the work one request can cause.
_MAX_CIPHERTEXT = 1 << 20
_MAX_WRAPPED_KEYS = 4


class _Unreadable(Exception):
    """Any reason the assertion does not open (never shown: see the module doc)."""


def decrypt_assertion(
    encrypted: etree._Element,
    keys: Sequence[rsa.RSAPrivateKey],
    posted_namespaces: Mapping[str | None, str] | None = None,
) -> etree._Element:
    """The `saml:Assertion` inside `encrypted` (a saml:EncryptedAssertion), or
    SamlRejected with the one message UNREADABLE.

    The plaintext may use prefixes it inherits (pysaml2's IdP uses the Response's
    `xsi`). `encrypted`'s own in-scope namespaces come first; when it is the verifier's
    re-parse of exclusive-canonical XML, those hold only the visibly used (signed)
    ones, and `posted_namespaces` (the posted EncryptedAssertion's) fill in the rest.
    A prefix bound there but not signed cannot forge anything that is read: the
    signed ones win, and an Assertion decrypted from an unsigned Response is then
    verified on its own signature."""
    namespaces = {**(posted_namespaces or {}), **encrypted.nsmap}
    try:
        return _decrypt(encrypted, keys, namespaces)
    except (_Unreadable, SamlRejected, ValueError, InvalidTag, binascii.Error):
        raise SamlRejected(UNREADABLE) from None


def _decrypt(
    encrypted: etree._Element,
    keys: Sequence[rsa.RSAPrivateKey],
    namespaces: Mapping[str | None, str],
) -> etree._Element:
    data = encrypted.findall("xenc:EncryptedData", _NS)
    if len(data) != 1:
        raise _Unreadable
    element = data[0]
    if element.get("Type") not in (None, f"{XENC}Element"):
        raise _Unreadable
    algorithm = _algorithm(element)
    if algorithm in _CBC_KEY_BYTES:
        key_bytes = _CBC_KEY_BYTES[algorithm]
    elif algorithm in _GCM_KEY_BYTES:
        key_bytes = _GCM_KEY_BYTES[algorithm]
    else:
        raise _Unreadable
    ciphertext = _cipher_value(element)
    wrapped = [
        *element.findall("ds:KeyInfo/xenc:EncryptedKey", _NS),
        *encrypted.findall("xenc:EncryptedKey", _NS),
    ]
    # An IdP wraps the key once per recipient; each try costs an RSA decryption per
    # provider key, so a response cannot make one request do hundreds.
    if len(wrapped) > _MAX_WRAPPED_KEYS:
        raise _Unreadable
    for encrypted_key in wrapped:
        for key in keys:
            try:
                session_key = _unwrap(encrypted_key, key)
            except ValueError:
                continue
            if len(session_key) != key_bytes:
                continue
            if algorithm in _CBC_KEY_BYTES:
                plaintext = _cbc(session_key, ciphertext)
            else:
                plaintext = _gcm(session_key, ciphertext)
            return _assertion(plaintext, namespaces)
    raise _Unreadable


def _algorithm(element: etree._Element) -> str:
    method = element.find("xenc:EncryptionMethod", _NS)
    if method is None:
        raise _Unreadable
    return str(method.get("Algorithm") or "")


def _cipher_value(element: etree._Element) -> bytes:
    value = element.find("xenc:CipherData/xenc:CipherValue", _NS)
    if value is None or not value.text:
        raise _Unreadable
    text = "".join(value.text.split())
    if len(text) > _MAX_CIPHERTEXT * 4 // 3 + 4:
        raise _Unreadable
    return base64.b64decode(text, validate=True)


def _unwrap(encrypted_key: etree._Element, key: rsa.RSAPrivateKey) -> bytes:
    algorithm = _algorithm(encrypted_key)
    method = encrypted_key.find("xenc:EncryptionMethod", _NS)
    digest_method = method.find("ds:DigestMethod", _NS)
    digest = _DIGESTS.get(
        "http://www.w3.org/2000/09/xmldsig#sha1"
        if digest_method is None
        else str(digest_method.get("Algorithm") or "")
    )
    if digest is None:
        raise _Unreadable
    if algorithm == f"{XENC}rsa-oaep-mgf1p":
        mgf: type[hashes.HashAlgorithm] = hashes.SHA1
    elif algorithm == f"{XENC11}rsa-oaep":
        mgf_method = method.find("xenc11:MGF", _NS)
        found = _MGFS.get(
            f"{XENC11}mgf1sha1" if mgf_method is None else str(mgf_method.get("Algorithm") or "")
        )
        if found is None:
            raise _Unreadable
        mgf = found
    else:
        # rsa-1_5 among them.
        raise _Unreadable
    params = method.find("xenc:OAEPparams", _NS)
    label = None if params is None or not params.text else base64.b64decode(params.text)
    return key.decrypt(
        _cipher_value(encrypted_key),
        padding.OAEP(mgf=padding.MGF1(mgf()), algorithm=digest(), label=label),
    )


def _cbc(key: bytes, data: bytes) -> bytes:
    if len(data) < 32 or len(data) % 16:
        raise _Unreadable
    decryptor = Cipher(algorithms.AES(key), modes.CBC(data[:16])).decryptor()
    plain = decryptor.update(data[16:]) + decryptor.finalize()
    # XML Encryption's padding: the last octet is the pad length, the others arbitrary.
    pad = plain[-1]
    if not 1 <= pad <= 16:
        raise _Unreadable
    return plain[:-pad]


def _gcm(key: bytes, data: bytes) -> bytes:
    if len(data) < 12 + 16:
        raise _Unreadable
    return AESGCM(key).decrypt(data[:12], data[12:], None)


def _assertion(plaintext: bytes, namespaces: Mapping[str | None, str]) -> etree._Element:
    """Parse the plaintext (an element serialized without the prefixes it inherited, as
    XML Encryption allows) inside a wrapper declaring `namespaces`; exactly one
    saml:Assertion must come out."""
    declarations = "".join(
        f' xmlns:{prefix}="{uri}"' if prefix else f' xmlns="{uri}"'
        for prefix, uri in namespaces.items()
        if '"' not in uri and "&" not in uri and "<" not in uri
    )
    wrapper = parse_xml(
        f"<iamd-decrypted{declarations}>".encode() + plaintext + b"</iamd-decrypted>",
        remove_comments=True,
    )
    children = list(wrapper)
    if (
        len(children) != 1
        or (wrapper.text or "").strip()
        or (children[0].tail or "").strip()
        or children[0].tag != f"{{{NS['saml']}}}Assertion"
    ):
        raise _Unreadable
    assertion: etree._Element = children[0]
    # A standalone copy: a later signature check must not see the wrapper.
    standalone: etree._Element = parse_xml(etree.tostring(assertion), remove_comments=True)
    return standalone
