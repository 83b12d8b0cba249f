"""Fixtures of the protocol tests: one codec per Query service, built once."""

from __future__ import annotations

from typing import Any

import pytest

from iamd.protocol import QueryCodec
from iamd.protocol.service_model import load_service_model

QUERY_SERVICES = ("iam", "sts")


@pytest.fixture(scope="session")
def codecs() -> dict[str, QueryCodec]:
    return {name: QueryCodec(name) for name in QUERY_SERVICES}


@pytest.fixture(scope="session")
def iam_codec(codecs: dict[str, QueryCodec]) -> QueryCodec:
    return codecs["iam"]


@pytest.fixture(scope="session")
def sts_codec(codecs: dict[str, QueryCodec]) -> QueryCodec:
    return codecs["sts"]


def service_model(name: str) -> Any:
    return load_service_model(name)
