"""AWS Signature Version 4 verification, as IAM and STS perform it.

A request is checked in two steps. ``parse_request`` needs no secret: it finds the
signature (``Authorization`` header or presigned query), checks its form, its credential
scope and its time, and computes the string to sign from the request bytes exactly as
the client's SDK did. The caller then looks the access key id up and calls ``verify``
with the secret, which derives the signing key (cached) and compares the signatures in
constant time. Errors carry the codes and messages AWS answers with (iam-facts §1.3,
§1.6), so SDKs and scripts react as they do against AWS.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_to_bytes

from iamd.errors import IncompleteSignature, MissingAuthenticationToken, SignatureDoesNotMatch

__all__ = ["ALGORITHM", "SigV4Request", "parse_request", "verify"]

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# IAM and STS accept requests up to 15 minutes either side of their clock and answer
# anything outside with SignatureDoesNotMatch (observed; iam-facts §1.6 item 8).
CLOCK_SKEW_SECONDS = 15 * 60
# Generic SigV4 presigned-URL rule: X-Amz-Expires is 1 second to 7 days.
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
# How long after its X-Amz-Date a presigned URL is honoured at most, whatever its
# X-Amz-Expires says. STS on AWS honours its presigned URLs for 15 minutes and ignores a
# longer X-Amz-Expires (iam-facts §1.6 item 9); a URL is a bearer credential that ends up
# in logs, shell histories and chat, so iamd applies that cap to every presigned request
# (a setting: `--presigned-url-max-age`).
DEFAULT_PRESIGNED_MAX_AGE_SECONDS = 15 * 60

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_AMZ_DATE_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_REGION_RE = re.compile(r"[a-z0-9-]+")
_DIGITS_RE = re.compile(r"[0-9]+")

_ONLY_ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
    "Signature query string parameter or the Authorization header should be specified"
)
_HOST_NOT_SIGNED = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
_BAD_AMZ_DATE = "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""

# Query parameter names of presigned (query-string) authentication. AWS treats query
# parameter names case-sensitively, so these are compared as exact bytes.
_Q_ALGORITHM = b"X-Amz-Algorithm"
_Q_CREDENTIAL = b"X-Amz-Credential"
_Q_DATE = b"X-Amz-Date"
_Q_SIGNED_HEADERS = b"X-Amz-SignedHeaders"
_Q_SIGNATURE = b"X-Amz-Signature"
_Q_EXPIRES = b"X-Amz-Expires"
_Q_SECURITY_TOKEN = b"X-Amz-Security-Token"
_QUERY_AUTH_MARKERS = frozenset((_Q_ALGORITHM, _Q_CREDENTIAL, _Q_SIGNATURE))
_QUERY_AUTH_PARAMS = frozenset(
    (
        _Q_ALGORITHM,
        _Q_CREDENTIAL,
        _Q_DATE,
        _Q_SIGNED_HEADERS,
        _Q_SIGNATURE,
        _Q_EXPIRES,
        _Q_SECURITY_TOKEN,
    )
)
_QUERY_REQUIRED = (_Q_ALGORITHM, _Q_CREDENTIAL, _Q_SIGNATURE, _Q_SIGNED_HEADERS, _Q_DATE)

# RFC 3986 unreserved characters stay as they are; everything else is %XX (uppercase).
# ``quote`` always keeps ASCII letters, digits and "_.-", so "~" is all it needs.
_QUERY_SAFE = "-_.~"
_PATH_SAFE = "/~"


@dataclass(frozen=True, slots=True)
class SigV4Request:
    """What the Authorization header (or presigned query) claims, parsed and checked for
    form and time, before the secret is known."""

    access_key_id: str
    amz_date: str  # 20260101T000000Z
    date_stamp: str  # 20260101
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str  # lowercase hex
    # Together with the secret this is a credential: keep it out of reprs and logs.
    security_token: str | None = field(repr=False)
    presigned: bool
    string_to_sign: str  # computed during parse (needs no secret)
    # Presigned URLs only: X-Amz-Expires in seconds as sent. What was enforced is the
    # shorter of it and the server's cap (`presigned_max_age` of `parse_request`).
    expires: int | None = None


def parse_request(
    method: str,
    path: str,
    raw_query: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
    now: datetime,
    *,
    presigned_max_age: int = DEFAULT_PRESIGNED_MAX_AGE_SECONDS,
) -> SigV4Request:
    """Parse and check a SigV4-signed request; raise the AWS error a bad one gets.

    ``path`` is the raw, still percent-encoded request path (ASGI ``raw_path`` decoded as
    latin-1), ``raw_query`` the raw query string, ``headers`` the ASGI header list. A
    presigned request is refused once it is older than X-Amz-Expires or than
    ``presigned_max_age`` seconds, whichever comes first.
    """
    header_map = _header_map(headers)
    query = _parse_query(raw_query)
    authorization = header_map.get("authorization")
    query_auth = bool(query) and not _QUERY_AUTH_MARKERS.isdisjoint(name for name, _ in query)
    if authorization is None and not query_auth:
        raise MissingAuthenticationToken()
    if authorization is not None and query_auth:
        raise IncompleteSignature(_ONLY_ONE_MECHANISM)

    expires: int | None = None
    if authorization is not None:
        auth_value = ",".join(authorization)
        credential, signed_headers_text, signature, amz_date, request_epoch = (
            _parse_authorization_header(auth_value, header_map)
        )
        security_token = _joined(header_map.get("x-amz-security-token"))
    else:
        params = _single_auth_params(query)
        credential, signed_headers_text, signature, amz_date, request_epoch, expires = (
            _parse_query_auth(params)
        )
        token_bytes = params.get(_Q_SECURITY_TOKEN)
        security_token = None if token_bytes is None else _text(token_bytes)

    access_key_id, date_stamp, region, service = _check_scope(credential, amz_date)

    signed_headers = tuple(signed_headers_text.split(";"))
    lowered_signed = signed_headers_text.lower().split(";")
    if "host" not in lowered_signed:
        raise SignatureDoesNotMatch(_HOST_NOT_SIGNED)

    if authorization is not None:
        lifetime = CLOCK_SKEW_SECONDS
    else:
        lifetime = presigned_max_age if expires is None else min(expires, presigned_max_age)
    _check_time(amz_date, request_epoch, now, lifetime)

    canonical_request = "\n".join(
        (
            method.upper(),
            _canonical_uri(path),
            _canonical_query(query, presigned=authorization is None),
            _canonical_headers(lowered_signed, header_map),
            signed_headers_text,
            _payload_hash(body, header_map, lowered_signed, presigned=authorization is None),
        )
    )
    canonical_hash = hashlib.sha256(canonical_request.encode("utf-8", "surrogatepass")).hexdigest()
    string_to_sign = (
        f"{ALGORITHM}\n{amz_date}\n{date_stamp}/{region}/{service}/{TERMINATOR}\n{canonical_hash}"
    )
    return SigV4Request(
        access_key_id=access_key_id,
        amz_date=amz_date,
        date_stamp=date_stamp,
        region=region,
        service=service,
        signed_headers=signed_headers,
        signature=signature.lower(),
        security_token=security_token,
        presigned=authorization is None,
        string_to_sign=string_to_sign,
        expires=expires,
    )


def verify(request: SigV4Request, secret_access_key: str) -> None:
    """Raise ``SignatureDoesNotMatch`` unless the request was signed with this secret."""
    key = _signing_key(secret_access_key, request.date_stamp, request.region, request.service)
    expected = hmac.digest(key, request.string_to_sign.encode("utf-8", "surrogatepass"), "sha256")
    # Constant-time comparison of the hex forms, so timing reveals nothing about how many
    # leading characters of a forged signature were right.
    provided = request.signature.encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(expected.hex().encode("ascii"), provided):
        raise SignatureDoesNotMatch()


@functools.lru_cache(maxsize=4096)
def _signing_key(secret_access_key: str, date_stamp: str, region: str, service: str) -> bytes:
    # The HMAC chain costs four HMACs; a client reuses the same (day, region, service) for
    # every request, so the derived key is cached. Bounded LRU; never logged or returned.
    k_date = hmac.digest(
        ("AWS4" + secret_access_key).encode("utf-8", "surrogatepass"),
        date_stamp.encode("utf-8", "surrogatepass"),
        "sha256",
    )
    k_region = hmac.digest(k_date, region.encode("utf-8", "surrogatepass"), "sha256")
    k_service = hmac.digest(k_region, service.encode("utf-8", "surrogatepass"), "sha256")
    return hmac.digest(k_service, TERMINATOR.encode("ascii"), "sha256")


# ---------------------------------------------------------------------------------------
# Finding the signature.


def _header_map(headers: Sequence[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    # Header bytes are decoded as latin-1: it maps every byte to one character, and it is
    # how the client's HTTP library turned the string it signed into bytes.
    result: dict[str, list[str]] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        existing = result.get(name)
        if existing is None:
            result[name] = [raw_value.decode("latin-1")]
        else:
            existing.append(raw_value.decode("latin-1"))
    return result


def _joined(values: list[str] | None) -> str | None:
    return None if values is None else ",".join(values)


def _parse_authorization_header(
    value: str, header_map: dict[str, list[str]]
) -> tuple[str, str, str, str, int]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM and algorithm.upper().startswith("AWS"):
        # Another AWS scheme (SigV2 "AWS", SigV4a "AWS4-ECDSA-P256-SHA256"): IAM and STS
        # name it rather than listing the parts it lacks.
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'")

    components: dict[str, str] = {}
    if algorithm == ALGORITHM:
        for part in rest.split(","):
            key, sep, component = part.strip().partition("=")
            if sep and key not in components:
                components[key] = component

    amz_date, request_epoch, date_error = _header_date(header_map)
    # AWS lists every missing piece in one message and ends it with the header as sent.
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if name not in components
    ]
    if amz_date is None and date_error is None:
        missing.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if missing:
        missing.append(f"Authorization={value}")
        raise IncompleteSignature(" ".join(missing))
    if amz_date is None or request_epoch is None:
        raise IncompleteSignature(date_error or _BAD_AMZ_DATE)
    return (
        components["Credential"],
        components["SignedHeaders"],
        components["Signature"],
        amz_date,
        request_epoch,
    )


def _header_date(header_map: dict[str, list[str]]) -> tuple[str | None, int | None, str | None]:
    """(amz_date, epoch seconds, error) from X-Amz-Date, else from the HTTP Date header."""
    amz_values = header_map.get("x-amz-date")
    if amz_values is not None:
        amz_date = ",".join(amz_values)
        epoch = _amz_date_epoch(amz_date)
        if epoch is None:
            return None, None, _BAD_AMZ_DATE
        return amz_date, epoch, None
    date_values = header_map.get("date")
    if date_values is None:
        return None, None, None
    # SigV4 lets the HTTP Date header stand in; the string to sign then carries its
    # ISO-8601 basic form (botocore does the same when it signs with a Date header).
    try:
        parsed = parsedate_to_datetime(",".join(date_values))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        parsed = parsed.astimezone(UTC)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None, None, None
    return parsed.strftime("%Y%m%dT%H%M%SZ"), int(parsed.timestamp()), None


@functools.lru_cache(maxsize=256)
def _amz_date_epoch(amz_date: str) -> int | None:
    # Cached: concurrent clients stamp many requests with the same second.
    if len(amz_date) != 16 or _AMZ_DATE_RE.fullmatch(amz_date) is None:
        return None
    try:
        moment = datetime(
            int(amz_date[0:4]),
            int(amz_date[4:6]),
            int(amz_date[6:8]),
            int(amz_date[9:11]),
            int(amz_date[11:13]),
            int(amz_date[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return int(moment.timestamp())


def _single_auth_params(query: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    params: dict[bytes, bytes] = {}
    for name, value in query:
        if name in _QUERY_AUTH_PARAMS:
            if name in params:
                # Two credentials or two signatures make the request ambiguous: which one
                # was checked and which one the rest of the stack sees must never differ.
                raise IncompleteSignature(
                    f"Query-string authentication parameter '{name.decode()}' "
                    "must appear only once."
                )
            params[name] = value
    return params


def _parse_query_auth(
    params: dict[bytes, bytes],
) -> tuple[str, str, str, str, int, int | None]:
    missing = [name for name in _QUERY_REQUIRED if name not in params]
    if missing:
        sentences = [
            f"AWS query-string parameters must include '{name.decode()}'." for name in missing
        ]
        sentences.append("Re-examine the query-string parameters.")
        raise IncompleteSignature(" ".join(sentences))
    algorithm = _text(params[_Q_ALGORITHM])
    if algorithm != ALGORITHM:
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'")
    amz_date = _text(params[_Q_DATE])
    request_epoch = _amz_date_epoch(amz_date)
    if request_epoch is None:
        raise IncompleteSignature(_BAD_AMZ_DATE)
    expires: int | None = None
    raw_expires = params.get(_Q_EXPIRES)
    if raw_expires is not None:
        expires = _parse_expires(_text(raw_expires))
    return (
        _text(params[_Q_CREDENTIAL]),
        _text(params[_Q_SIGNED_HEADERS]),
        _text(params[_Q_SIGNATURE]),
        amz_date,
        request_epoch,
        expires,
    )


def _parse_expires(text: str) -> int:
    # Messages follow the generic SigV4 presigned-URL rules (S3 wording).
    if text.startswith("-") and _DIGITS_RE.fullmatch(text[1:]):
        raise IncompleteSignature("X-Amz-Expires must be non-negative")
    if _DIGITS_RE.fullmatch(text) is None:
        raise IncompleteSignature("X-Amz-Expires should be a number")
    stripped = text.lstrip("0")
    if len(stripped) > 7 or int(stripped or "0") > MAX_EXPIRES_SECONDS:
        raise IncompleteSignature(
            "X-Amz-Expires must be less than a week (in seconds) that is; 604800"
        )
    expires = int(stripped or "0")
    if expires < 1:
        raise IncompleteSignature("X-Amz-Expires must be at least 1 second")
    return expires


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------
# Scope and time.


def _check_scope(credential: str, amz_date: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5:
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    access_key_id, date_stamp, region, service, terminator = parts
    # AWS concatenates the scope complaints; each sentence ends with ". ".
    problems = []
    # Self-hosted clients sign with whatever region they are configured with (iam-facts
    # §1.5), so any well-formed region is accepted. The service is the caller's to check.
    if _REGION_RE.fullmatch(region) is None:
        problems.append(f"Credential should be scoped to a valid Region, not '{region}'. ")
    if terminator != TERMINATOR:
        problems.append(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'. "
        )
    if problems:
        raise SignatureDoesNotMatch("".join(problems))
    if date_stamp != amz_date[:8]:
        raise SignatureDoesNotMatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{date_stamp}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    return access_key_id, date_stamp, region, service


def _check_time(amz_date: str, request_epoch: int, now: datetime, lifetime: int) -> None:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    now_epoch = int(now.timestamp())
    if request_epoch > now_epoch + CLOCK_SKEW_SECONDS:
        raise SignatureDoesNotMatch(
            f"Signature not yet current: {amz_date} is still later than "
            f"{_amz(now_epoch + CLOCK_SKEW_SECONDS)} ({_amz(now_epoch)} + 15 min.)"
        )
    # Too old: IAM and STS answer a request past the skew window, and an STS presigned
    # URL past its 15 minutes, with SignatureDoesNotMatch "Signature expired: ... - 15
    # min." (iam-facts §1.6 items 8-9; the generic docs' RequestExpired is not what they
    # send). A presigned URL with a shorter lifetime gets the same sentence with its own.
    if request_epoch < now_epoch - lifetime:
        span = f"{lifetime // 60} min." if lifetime % 60 == 0 else f"{lifetime} sec."
        raise SignatureDoesNotMatch(
            f"Signature expired: {amz_date} is now earlier than "
            f"{_amz(now_epoch - lifetime)} ({_amz(now_epoch)} - {span})"
        )


def _amz(epoch: int) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


# ---------------------------------------------------------------------------------------
# The canonical request.


def _canonical_uri(path: str) -> str:
    if path == "/" or not path:
        return "/"
    normalized = _remove_dot_segments(path)
    try:
        raw = normalized.encode("latin-1")
    except UnicodeEncodeError:
        raw = normalized.encode("utf-8", "surrogatepass")
    # Non-S3 services encode the path twice: the client sends it encoded once and signs
    # it encoded again, so the path as received is encoded once more here ("%" -> "%25").
    return quote(raw, safe=_PATH_SAFE)


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 §5.2.4, plus the AWS rule (as signed by botocore) that empty segments from
    # repeated slashes are dropped.
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
        else:
            segments.append(segment)
    prefix = "/" if path.startswith("/") else ""
    suffix = "/" if path.endswith("/") and segments else ""
    return prefix + "/".join(segments) + suffix


def _parse_query(raw_query: bytes) -> list[tuple[bytes, bytes]]:
    pairs: list[tuple[bytes, bytes]] = []
    if not raw_query:
        return pairs
    for part in raw_query.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        # "+" is a space in a query string: botocore sends spaces as "+" (form encoding)
        # while it signs them as %20, and the Query parser reads "+" as a space too.
        pairs.append(
            (
                unquote_to_bytes(name.replace(b"+", b" ")),
                unquote_to_bytes(value.replace(b"+", b" ")),
            )
        )
    return pairs


def _canonical_query(query: list[tuple[bytes, bytes]], *, presigned: bool) -> str:
    # Parameters are decoded and re-encoded with the RFC 3986 rule SigV4 prescribes, so
    # the result does not depend on how the client chose to escape them (space is %20).
    encoded = sorted(
        (quote(name, safe=_QUERY_SAFE), quote(value, safe=_QUERY_SAFE))
        for name, value in query
        if not (presigned and name == _Q_SIGNATURE)
    )
    return "&".join(f"{name}={value}" for name, value in encoded)


def _canonical_headers(lowered_signed: list[str], header_map: dict[str, list[str]]) -> str:
    lines = []
    for name in lowered_signed:
        values = header_map.get(name, ())
        # Each value trimmed and inner whitespace runs collapsed; repeated headers are
        # joined with "," in the order received.
        if len(values) == 1:
            value = " ".join(values[0].split())
        else:
            value = ",".join([" ".join(v.split()) for v in values])
        lines.append(f"{name}:{value}\n")
    return "".join(lines)


def _payload_hash(
    body: bytes,
    header_map: dict[str, list[str]],
    lowered_signed: list[str],
    *,
    presigned: bool,
) -> str:
    # IAM and STS clients send no X-Amz-Content-Sha256 and the server hashes the body
    # itself. The actual body hash is always used, so a header claiming another hash just
    # fails to verify. Only a presigned request may opt out with UNSIGNED-PAYLOAD, and
    # only without a body: an unsigned body would reach the Query parser unauthenticated.
    if presigned and not body:
        claimed = header_map.get("x-amz-content-sha256")
        if claimed == [UNSIGNED_PAYLOAD] and "x-amz-content-sha256" in lowered_signed:
            return UNSIGNED_PAYLOAD
    if not body:
        return _EMPTY_SHA256
    return hashlib.sha256(body).hexdigest()
