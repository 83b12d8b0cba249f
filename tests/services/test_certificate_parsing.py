"""The certificate checks turn any input into a parsed certificate or AWS's error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.certificates import issue

from iamd.errors import AwsError
from iamd.services.certificate_parsing import server_certificate, signing_certificate

VALID = issue("fuzz.example.com")
PEM_ALPHABET = st.sampled_from(
    list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n- ")
)


def _pem_like() -> st.SearchStrategy[str]:
    inner = st.text(PEM_ALPHABET, max_size=400)
    return st.one_of(
        st.text(st.characters(max_codepoint=0xFF), max_size=300),
        inner.map(lambda t: f"-----BEGIN CERTIFICATE-----\n{t}\n-----END CERTIFICATE-----\n"),
        st.integers(0, len(VALID.pem)).map(lambda n: VALID.pem[:n]),
    )


def _outcome(call: Callable[[], object]) -> tuple[str, str]:
    """("ok", "") or the AWS error's code and message; anything else propagates."""
    try:
        call()
    except AwsError as error:
        return error.code, error.message
    return "ok", ""


@settings(max_examples=200, deadline=None)
@given(_pem_like())
def test_any_signing_certificate_text_parses_or_is_refused(text: str) -> None:
    code, _ = _outcome(lambda: signing_certificate(text, datetime.now(UTC)))
    assert code in {"ok", "MalformedCertificate", "InvalidCertificate"}


@settings(max_examples=200, deadline=None)
@given(_pem_like(), _pem_like(), st.none() | _pem_like())
def test_any_server_certificate_parts_parse_or_are_refused(
    body: str, key: str, chain: str | None
) -> None:
    for parts in ((body, key, chain), (VALID.pem, key, chain), (VALID.pem, VALID.key_pem, chain)):
        code, message = _outcome(partial(server_certificate, *parts, datetime.now(UTC)))
        assert code in {"ok", "MalformedCertificate", "KeyPairMismatch"}
        assert VALID.key_pem.splitlines()[3] not in message
