"""Hardened XML parsing for SAML documents (no DTD, no entities, no network, no huge
trees), shared by the response verifier and the assertion decryptor."""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped

NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
}


class SamlRejected(Exception):
    """The document or assertion is not acceptable; `expired` tells the time case apart
    (ExpiredTokenException rather than InvalidIdentityToken)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


def xml_parser(*, remove_comments: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=remove_comments,
        remove_pis=True,
    )


def parse_xml(text: bytes, *, remove_comments: bool = False) -> etree._Element:
    """Parse untrusted XML, refusing any DOCTYPE (and with it every entity trick)."""
    try:
        parser = xml_parser(remove_comments=remove_comments)
        tree = etree.fromstring(text, parser=parser).getroottree()
    except etree.XMLSyntaxError as exc:
        raise SamlRejected("the document is not well-formed XML") from exc
    if tree.docinfo.doctype:
        raise SamlRejected("the document has a DOCTYPE")
    return tree.getroot()
