"""An external identity provider's metadata as `set-identity-source` takes it: the IdP's
entity id and HTTP-Redirect single sign-on URL, or a clear refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.saml_idp import SamlIdp

from iamd.errors import ValidationError
from iamd.services.external_idp import REDIRECT_BINDING, checked_source_metadata


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
