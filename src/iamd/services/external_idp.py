"""An Identity Center instance whose users sign in at an external SAML 2.0 identity
provider (Okta, Entra ID ...; AWS's "external identity provider" identity source).

The sign-in pages send the browser to the provider's single sign-on service with an
AuthnRequest (HTTP-Redirect binding) and a RelayState ticket; the ticket (kept as its
SHA-256 digest, used once, 10 minutes) ties the answer to the device code or
/authorize request that is waiting. The provider's Response comes back to the
assertion consumer service and is checked with the federation code
(services/saml_assertions.py: the XML signature against the provider's metadata
certificates, NotBefore/NotOnOrAfter, the Recipient), then here: the Issuer is the
provider, the Audience is this instance's service provider entity id, the answer's
InResponseTo names the AuthnRequest sent, the assertion was not seen before (the replay
cache of AssumeRoleWithSAML). The user is the identity
store user whose userName equals the NameID, ignoring case, as AWS matches it (users
are typically provisioned by SCIM); a disabled or unknown user signs in nowhere.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from iamd.clock import Clock
from iamd.errors import ResourceNotFoundException, ValidationError
from iamd.model.identity_center import DirectoryUser, IdentitySource, Instance, SamlSignIn
from iamd.services.saml_assertions import (
    NS,
    SamlRejected,
    decode_response,
    parse_metadata,
    parse_xml,
    verify_response,
)
from iamd.store.transactions import NO_CREDENTIALS, Transactions

REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
ACS_PATH = "/saml/acs"
SP_METADATA_PATH = "/saml/metadata"
SIGN_IN_LIFETIME = timedelta(minutes=10)
MAX_METADATA = 256 * 1024
_EXPIRED = "This sign-in has expired or was already used; start again."
#: The payload member holding the AuthnRequest's ID, which the answer must name.
_REQUEST_ID = "saml_request_id"


class SignInRefused(Exception):
    """The provider's answer signs no one in; the message is safe to show (and to
    record: it never quotes the answer). `code` names the refusal for the audit trail,
    `instance` the sign-in's instance once known, `user` the directory user the verified
    answer named, `subject` that name (only from an answer whose signature verified)."""

    def __init__(
        self,
        message: str,
        code: str,
        instance: Instance | None = None,
        user: DirectoryUser | None = None,
        subject: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.instance = instance
        self.user = user
        self.subject = subject


@dataclass(frozen=True, slots=True)
class AcceptedSignIn:
    sign_in: SamlSignIn
    instance: Instance
    user: DirectoryUser


def sp_entity_id(public_url: str, store_id: str) -> str:
    """The instance's service provider entity id: the Audience its assertions carry."""
    return f"{public_url}/saml/sp/{store_id}"


def acs_url(public_url: str) -> str:
    return f"{public_url}{ACS_PATH}"


def sp_metadata(public_url: str, store_id: str) -> str:
    """The SAML metadata an administrator gives the identity provider for the instance."""
    entity = html.escape(sp_entity_id(public_url, store_id), quote=True)
    acs = html.escape(acs_url(public_url), quote=True)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>
    <md:AssertionConsumerService index="0" isDefault="true"
        Binding="{POST_BINDING}" Location="{acs}"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


def checked_source_metadata(document: str) -> tuple[str, str]:
    """The provider's entity id and HTTP-Redirect single sign-on URL; ValidationError
    for metadata that is not an IdP's, has no signing certificate or no such service."""
    if len(document) > MAX_METADATA:
        raise ValidationError("The SAML metadata document is too large.")
    try:
        parsed = parse_metadata(document)
        root = parse_xml(document.encode())
    except SamlRejected as rejected:
        raise ValidationError(f"Invalid SAML metadata: {rejected}") from None
    for entity in [root, *root.findall("md:EntityDescriptor", NS)]:
        if entity.get("entityID") != parsed.entity_id:
            continue
        for service in entity.iterfind("md:IDPSSODescriptor/md:SingleSignOnService", NS):
            location = service.get("Location") or ""
            if service.get("Binding") == REDIRECT_BINDING and _redirectable(location):
                return parsed.entity_id, location
    raise ValidationError(
        "The SAML metadata has no SingleSignOnService with the HTTP-Redirect binding."
    )


def _redirectable(location: str) -> bool:
    """An http(s) URL that can go in a Location header as it is (ASCII, no blanks)."""
    parts = urlsplit(location)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and location.isascii()
        and location.isprintable()
        and not any(c in location for c in ' "<>\\')
        and not parts.fragment
    )


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


class ExternalIdpService:
    def __init__(self, tx: Transactions, clock: Clock, public_url: str) -> None:
        # Instances are found by ARN whatever account owns them (the operator's command
        # and the unsigned sign-in pages).
        self._tx = tx
        self._clock = clock
        self.public_url = public_url

    # -- the identity source -----------------------------------------------------------

    def set_source(self, instance_arn: str, metadata_document: str) -> IdentitySource:
        entity_id, sso_url = checked_source_metadata(metadata_document)
        source = IdentitySource(
            instance_arn, entity_id, sso_url, metadata_document, self._clock.now()
        )
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            if repos.identity_center.instance(instance_arn) is None:
                raise ResourceNotFoundException("Instance does not exist.")
            repos.identity_sources.set_source(source)
        return source

    def use_directory(self, instance_arn: str) -> None:
        """Back to the built-in directory (its users sign in with their passwords)."""
        with self._tx.write(credentials=NO_CREDENTIALS) as repos:
            if repos.identity_center.instance(instance_arn) is None:
                raise ResourceNotFoundException("Instance does not exist.")
            repos.identity_sources.remove_source(instance_arn)

    def source_of(self, instance_arn: str) -> IdentitySource | None:
        with self._tx.read() as repos:
            return repos.identity_sources.source(instance_arn)

    def instance_of_store(self, store_id: str) -> Instance | None:
        with self._tx.read() as repos:
            return repos.identity_center.instance_of_store(store_id)

    # -- the round trip to the provider ------------------------------------------------

    def begin(
        self, instance: Instance, source: IdentitySource, kind: str, payload: dict[str, str]
    ) -> str:
        """Where the browser goes: the provider's SSO URL with the AuthnRequest and the
        RelayState ticket of this waiting sign-in."""
        ticket = secrets.token_urlsafe(32)  # 43 characters: SAML's RelayState limit is 80
        now = self._clock.now()
        request_id = f"_{uuid.uuid4().hex}"
        with self._tx.write_uncached() as repos:
            repos.identity_sources.forget_sign_ins(now)
            repos.identity_sources.add_sign_in(
                _digest(ticket),
                SamlSignIn(
                    instance.instance_arn,
                    kind,
                    {**payload, _REQUEST_ID: request_id},
                    None,
                    now + SIGN_IN_LIFETIME,
                ),
            )
        request = self._authn_request(instance, source, request_id, now)
        query = urlencode({"SAMLRequest": request, "RelayState": ticket})
        separator = "&" if urlsplit(source.idp_sso_url).query else "?"
        return f"{source.idp_sso_url}{separator}{query}"

    def _authn_request(
        self, instance: Instance, source: IdentitySource, request_id: str, now: datetime
    ) -> str:
        xml = (
            '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            f'ID="{request_id}" Version="2.0" '
            f'IssueInstant="{now.strftime("%Y-%m-%dT%H:%M:%SZ")}" '
            f'Destination="{html.escape(source.idp_sso_url, quote=True)}" '
            f'AssertionConsumerServiceURL="{html.escape(acs_url(self.public_url), quote=True)}" '
            f'ProtocolBinding="{POST_BINDING}">'
            f"<saml:Issuer>{html.escape(sp_entity_id(self.public_url, instance.identity_store_id))}"
            "</saml:Issuer>"
            '<samlp:NameIDPolicy AllowCreate="true"/>'
            "</samlp:AuthnRequest>"
        )
        # HTTP-Redirect binding: raw DEFLATE, then base64 (SAML bindings §3.4.4.1).
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        deflated = compressor.compress(xml.encode()) + compressor.flush()
        return base64.b64encode(deflated).decode("ascii")

    def accept(self, relay_state: str, saml_response: str) -> AcceptedSignIn:
        """The waiting sign-in the provider's Response answers, and its user."""
        now = self._clock.now()
        with self._tx.write_uncached() as repos:
            # Spent whatever the outcome: a refused answer cannot be retried with it.
            sign_in = repos.identity_sources.take_sign_in(_digest(relay_state[:128]))
        if sign_in is None:
            raise self._without_sign_in(saml_response, now)
        with self._tx.read() as repos:
            instance = repos.identity_center.instance(sign_in.instance_arn)
            source = repos.identity_sources.source(sign_in.instance_arn)
        if sign_in.expires <= now or sign_in.user_id is not None:
            raise SignInRefused(_EXPIRED, "ExpiredSignIn", instance)
        if instance is None or source is None:
            raise SignInRefused(
                "This instance no longer signs in at an identity provider.",
                "NoIdentitySource",
                instance,
            )
        certificates = parse_metadata(source.metadata_document).signing_certificates
        try:
            verified = verify_response(
                saml_response, certificates, now, accepted_recipients=(acs_url(self.public_url),)
            )
        except SamlRejected as rejected:
            raise SignInRefused(
                f"The identity provider's answer was refused: {rejected}.",
                "ExpiredAssertion" if rejected.expired else "InvalidSAMLResponse",
                instance,
            ) from None
        subject = verified.subject[:128]
        with self._tx.read() as repos:
            named = repos.identity_center.user_named(instance.identity_store_id, verified.subject)

        def refused(message: str, code: str) -> SignInRefused:
            return SignInRefused(message, code, instance, named, subject)

        if verified.issuer != source.idp_entity_id:
            raise refused("The answer was issued by another identity provider.", "WrongIssuer")
        if sp_entity_id(self.public_url, instance.identity_store_id) not in verified.audiences:
            raise refused("The answer is meant for another service provider.", "WrongAudience")
        if verified.in_response_to != sign_in.payload.get(_REQUEST_ID):
            # SAML's Web SSO profile (§4.1.4.3): an answer to a request names that request;
            # an unsolicited (IdP-initiated) answer has nothing waiting for it here.
            raise refused("The answer does not answer this sign-in's request.", "NotRequested")
        with self._tx.write_uncached() as repos:
            fresh = repos.in_account(instance.owner_account_id).saml_providers.record_assertion(
                verified.assertion_id, verified.not_on_or_after, now
            )
        if not fresh:
            raise refused("This answer was already used.", "ReplayedAssertion")
        if named is None or named.status != "ENABLED":
            raise refused(
                f"No active user named {subject} is in this instance's "
                "directory; ask an administrator to provision it.",
                "UnknownUser",
            )
        return AcceptedSignIn(sign_in, instance, named)

    def _without_sign_in(self, saml_response: str, now: datetime) -> SignInRefused:
        """The refusal of an answer that came with no waiting sign-in (a forged or spent
        RelayState). Its signature is checked against the providers its Issuer names,
        only so that the audit trail can record it in that instance's account (as
        `ReplayedAssertion` when the assertion was accepted before); nothing else comes
        of it, and an answer no instance's provider signed stays unattributed."""
        unattributed = SignInRefused(_EXPIRED, "ExpiredSignIn")
        try:
            root = decode_response(saml_response)
        except SamlRejected:
            return unattributed
        issuer = root.findtext("saml:Issuer", namespaces=NS) or root.findtext(
            "saml:Assertion/saml:Issuer", namespaces=NS
        )
        if not issuer:
            return unattributed
        with self._tx.read() as repos:
            sources = repos.identity_sources.sources_of_idp(issuer.strip()[:1024])
        for source in sources[:8]:
            certificates = parse_metadata(source.metadata_document).signing_certificates
            try:
                verified = verify_response(
                    saml_response,
                    certificates,
                    now,
                    accepted_recipients=(acs_url(self.public_url),),
                )
            except SamlRejected as rejected:
                if not rejected.expired:
                    continue  # not this provider's signature (or not a sound answer)
                verified = None  # signed by this provider, but expired
            with self._tx.read() as repos:
                instance = repos.identity_center.instance(source.instance_arn)
                if instance is None:
                    continue
                if verified is None:
                    return SignInRefused(_EXPIRED, "ExpiredSignIn", instance)
                seen = repos.in_account(instance.owner_account_id).saml_providers.assertion_seen(
                    verified.assertion_id
                )
                named = repos.identity_center.user_named(
                    instance.identity_store_id, verified.subject
                )
            code = "ReplayedAssertion" if seen else "ExpiredSignIn"
            message = "This answer was already used." if seen else _EXPIRED
            return SignInRefused(message, code, instance, named, verified.subject[:128])
        return unattributed

    def hold_for_consent(self, accepted: AcceptedSignIn) -> str:
        """A device sign-in whose user is known, kept until they allow or deny it: the
        ticket the consent form carries."""
        ticket = secrets.token_urlsafe(32)
        sign_in = accepted.sign_in
        with self._tx.write_uncached() as repos:
            repos.identity_sources.add_sign_in(
                _digest(ticket),
                SamlSignIn(
                    sign_in.instance_arn,
                    sign_in.kind,
                    sign_in.payload,
                    accepted.user.user_id,
                    self._clock.now() + SIGN_IN_LIFETIME,
                ),
            )
        return ticket

    def take_consent(self, ticket: str) -> SamlSignIn | None:
        with self._tx.write_uncached() as repos:
            sign_in = repos.identity_sources.take_sign_in(_digest(ticket[:128]))
        if sign_in is None or sign_in.user_id is None or sign_in.expires <= self._clock.now():
            return None
        return sign_in
