"""Decoding of ``application/x-www-form-urlencoded`` request bodies and query strings.

AWS Query requests carry their parameters either in a form-encoded POST body (what
SDKs send) or in the URL's query string (presigned URLs, documentation examples);
both decode the same way here. Anything that is not valid percent-encoded UTF-8 is the
sender's fault and is reported as ``ValidationError``, never as a Python exception. A
parameter given twice (in the body, in the query string, or once in each) is
``InvalidQueryParameter``: no SDK sends one, and which of the values counts would be
a guess (the event loop's read-or-write decision and the codec must never disagree).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from iamd.errors import AwsError, InvalidQueryParameter, ValidationError


def parse_form(body: bytes) -> dict[str, str]:
    """Decode a form body (or raw query-string bytes) into key -> value.

    Blank values are kept because botocore sends an empty list as ``Name=``.
    """
    try:
        # Form bodies are ASCII by definition; raw UTF-8 is tolerated because some
        # hand-written clients send unescaped non-ASCII text in query strings.
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("The request body is not valid form-encoded UTF-8.") from exc
    form = dict(pairs)
    if len(form) != len(pairs):
        _raise_repeated(pairs)
    return form


def _raise_repeated(pairs: Sequence[tuple[str, str]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InvalidQueryParameter.repeated(key)
        seen.add(key)


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
        posted = parse_form(body)
        if form:
            for key in posted:
                if key in form:
                    raise InvalidQueryParameter.repeated(key)
        form.update(posted)
    return form


@dataclass(frozen=True, slots=True)
class DecodedForm:
    """A Query request's parameters decoded once, or the error decoding them raised.

    The front decodes small forms on the event loop to decide where the request runs;
    the pipeline reuses the result, and re-raises the error only after authentication,
    where the codec would have raised it.
    """

    params: Mapping[str, str]
    error: AwsError | None = None

    @property
    def action(self) -> str | None:
        return None if self.error is not None else self.params.get("Action")

    def get(self) -> Mapping[str, str]:
        if self.error is not None:
            raise self.error
        return self.params


def decode_query_form(
    method: str, raw_query: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
) -> DecodedForm:
    try:
        return DecodedForm(query_form(method, raw_query, headers, body))
    except AwsError as error:
        return DecodedForm({}, error)
