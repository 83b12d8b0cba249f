"""An external identity provider's metadata as `set-identity-source` takes it (the IdP's
entity id and HTTP-Redirect single sign-on URL, or a clear refusal), and what only a
moved clock or a second ticket can show: the replay cache and the tickets' lifetime."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from tests.support.local_services import MovableClock, local_services
from tests.support.saml_idp import SamlIdp

from iamd.errors import ValidationError
from iamd.model.identity_center import Instance
from iamd.services.container import Services
from iamd.services.external_idp import (
    REDIRECT_BINDING,
    SignInRefused,
    checked_source_metadata,
    sp_metadata,
)


@pytest.fixture(scope="module")
def metadata(tmp_path_factory: pytest.TempPathFactory) -> str:
    document: str = SamlIdp(tmp_path_factory.mktemp("idp") / "idp").metadata
    return document


def test_the_redirect_sso_service_is_found(metadata: str) -> None:
    assert checked_source_metadata(metadata) == (
        "https://idp.example.test/saml",
        "https://idp.example.test/saml/sso/redirect",
    )


@pytest.mark.parametrize(
    "location",
    [
        "javascript:alert(1)",
        "https://idp.example.test/sso/\u00e9",
        "https://idp.example.test/sso redirect",
        "https:///no-host",
        "https://idp.example.test/sso#fragment",
    ],
)
def test_an_unusable_sso_url_is_refused(metadata: str, location: str) -> None:
    changed = metadata.replace(
        'Location="https://idp.example.test/saml/sso/redirect"', f'Location="{location}"'
    )
    assert changed != metadata
    with pytest.raises(ValidationError, match="HTTP-Redirect"):
        checked_source_metadata(changed)


def test_metadata_without_a_redirect_binding_or_not_metadata_is_refused(
    metadata: str, tmp_path: Path
) -> None:
    without = metadata.replace(REDIRECT_BINDING, "urn:example:binding")
    with pytest.raises(ValidationError, match="HTTP-Redirect"):
        checked_source_metadata(without)
    for document in ("<nope/>", "not xml", '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'):
        with pytest.raises(ValidationError, match="Invalid SAML metadata"):
            checked_source_metadata(document)
    with pytest.raises(ValidationError, match="too large"):
        checked_source_metadata(" " * (300 * 1024))


def _begin(services: Services, instance: Instance, payload: dict[str, str]) -> tuple[str, str]:
    source = services.external_idp.source_of(instance.instance_arn)
    assert source is not None
    location = services.external_idp.begin(instance, source, "device", payload)
    query = dict(parse_qsl(urlsplit(location).query))
    return query["SAMLRequest"], query["RelayState"]


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_replay_cache_and_the_tickets_lifetime(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    clock = MovableClock(datetime.now(UTC))
    url = request.getfixturevalue("fresh_postgres_url") if engine == "postgresql" else None
    with local_services(tmp_path, clock, database_url=url) as services:
        instance = services.identity_center.create_instance("Corp")
        store = instance.identity_store_id
        services.identity_store.create_user(store, {"UserName": "alice@example.com"}, "admin")
        external = services.external_idp
        idp = SamlIdp(tmp_path / "idp", sp_metadata=(sp_metadata(external.public_url, store),))
        external.set_source(instance.instance_arn, idp.metadata)

        saml_request, relay_state = _begin(services, instance, {"user_code": "ABCD-EFGH"})
        _, response = idp.answer_authn_request(saml_request, "alice@example.com")
        accepted = external.accept(relay_state, response)
        assert accepted.user.user_name == "alice@example.com"
        assert accepted.sign_in.payload["user_code"] == "ABCD-EFGH"

        # The same assertion behind another ticket for the same request (as if the
        # request were answered twice): the replay cache refuses it.
        ticket = "a-second-ticket-for-the-same-request"
        with services.tx.write_uncached() as repos:
            repos.identity_sources.add_sign_in(
                hashlib.sha256(ticket.encode()).hexdigest(),
                replace(accepted.sign_in, expires=clock.now() + timedelta(minutes=5)),
            )
        with pytest.raises(SignInRefused, match="already used"):
            external.accept(ticket, response)
        # A ticket is spent by its first use, whatever the outcome; posted again, the
        # answer (signed by the instance's provider) is named a replay of a used one.
        with pytest.raises(SignInRefused, match="This answer was already used") as spent:
            external.accept(ticket, response)
        assert spent.value.code == "ReplayedAssertion"

        # A ticket lives 10 minutes.
        saml_request, relay_state = _begin(services, instance, {"user_code": "ABCD-EFGH"})
        _, response = idp.answer_authn_request(saml_request, "alice@example.com")
        clock.when += timedelta(minutes=11)
        with pytest.raises(SignInRefused, match="expired"):
            external.accept(relay_state, response)
