"""Identity Center sign-in on a real database: deleting a directory user ends its
portal tokens and its password at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.local_services import MovableClock, local_services

from iamd.services.container import Services
from iamd.services.sso_oidc import DEVICE_GRANT


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with local_services(tmp_path, MovableClock()) as made:
        yield made


def test_deleting_a_user_revokes_its_tokens_and_its_password(services: Services) -> None:
    instance = services.identity_center.create_instance("Corp")
    store = instance.identity_store_id
    user = services.identity_store.create_user(store, {"UserName": "jdoe"}, "admin")
    services.sso_portal.set_password(store, "jdoe", "One-Time-Pass-1", must_change=False)
    oidc = services.sso_oidc
    client = oidc.register_client("cli", "public", [], [], [DEVICE_GRANT], None)
    device = oidc.start_device(
        client.client_id, client.client_secret, f"https://{store}.awsapps.com/start"
    )
    assert oidc.decide_device(device.user_code, user.user_id, approved=True)
    tokens = oidc.create_token(
        client.client_id, client.client_secret, DEVICE_GRANT, device_code=device.device_code
    )
    assert oidc.token_owner(tokens.access_token) is not None

    services.identity_store.delete_user(store, user.user_id)

    assert oidc.token_owner(tokens.access_token) is None
    with services.tx.read() as repos:
        assert repos.identity_center_sign_in.password(user.user_id) is None
