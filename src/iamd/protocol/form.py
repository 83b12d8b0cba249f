"""Decoding of ``application/x-www-form-urlencoded`` request bodies and query strings.

AWS Query requests carry their parameters either in a form-encoded POST body (what
SDKs send) or in the URL's query string (presigned URLs, documentation examples);
both decode the same way here. Anything that is not valid percent-encoded UTF-8 is the
sender's fault and is reported as ``ValidationError``, never as a Python exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl

from iamd.errors import ValidationError


def parse_form(body: bytes) -> dict[str, str]:
    """Decode a form body (or raw query-string bytes) into key -> value.

    Blank values are kept because botocore sends an empty list as ``Name=``. When a key
    repeats, the last occurrence wins.
    """
    try:
        # Form bodies are ASCII by definition; raw UTF-8 is tolerated because some
        # hand-written clients send unescaped non-ASCII text in query strings.
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("The request body is not valid form-encoded UTF-8.") from exc
    return dict(pairs)


def header(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> str:
    """The first value of a header (lower-case name, as ASGI gives them), or ''."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return ""


_FORM_CONTENT_TYPE = b"application/x-www-form-urlencoded"


def query_form(
    method: str, raw_query: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
) -> dict[str, str]:
    """The parameters of a Query-protocol request: its query string, and a POSTed form."""
    form = parse_form(raw_query) if raw_query else {}
    if (
        body
        and method == "POST"
        and header(headers, b"content-type").encode("latin-1").startswith(_FORM_CONTENT_TYPE)
    ):
        form.update(parse_form(body))
    return form
