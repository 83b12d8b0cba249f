"""Deterministic generators of model-valid inputs and full outputs for every operation.

Inputs must pass the service's own constraints (length, range, enum, pattern) so that
the parser accepts them; patterns are satisfied from a small table of known-good values
per pattern text, each verified against the pattern before use. Outputs only need to
round-trip, so their strings are deliberately awkward for XML (``& < > \\r`` and
non-ASCII text), and every optional member, list and map is filled in.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from iamd.protocol.service_model import POLICY_DOCUMENT_SHAPE
from iamd.protocol.validation import compile_pattern

# Known-good values per model pattern (the model's own pattern text as key).
PATTERN_SAMPLES: dict[str, list[str]] = {
    r"[\w-]+": ["dr-0123456789abcdef", "request_id-42"],
    r"[\w+=,.@-]+": ["bob", "Alice.Smith@example.com", "svc+deploy=1,x-y_z"],
    r"[\u0009\u000A\u000D\u0020-\u00FF]+": [
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}',
        "line one\n\tline two",
    ],
    r"[\w]+": ["AKIAIOSFODNN7EXAMPLE", "ASCACKCEVSQ6C2EXAMPLE0123", "APKAEIBAERJR2EXAMPLE"],
    r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$": ["my-account-alias", "corp01"],
    r"\d{12}": ["123456789012"],
    r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*": [
        "A description, with punctuation & symbols: 100%.",
        "short",
    ],
    r"[ -~]+": ["aws:username", "s3:prefix"],
    r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]+": ["workflow-12345", "ticket 42"],
    r"^http(s?)://[a-zA-Z0-9._/-]*(\?[a-zA-Z0-9._=&-]*)?(#[a-zA-Z0-9._/-]*)?$": [
        "https://example.com/callback?state=1",
    ],
    r"^[a-zA-Z0-9:_.-]+$": ["arn:aws:sns:us-east-1:123456789012:topic"],
    r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)": ["/", "/division/team/"],
    r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+": ["Project", "cost:center é"],
    r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*": ["Blue sky", "über/1"],
    r"((/[A-Za-z0-9\.,\+@=_-]+)*)/": ["/", "/service-role/"],
    r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?": ["v1", "v12"],
    r"[\w._-]+": ["MySAMLProvider", "corp_idp-1"],
    r"[\w+=,.@-]*": ["session-1", "bob@example"],
    r"[\w+=/:,.@-]+": ["arn:aws:iam::123456789012:mfa/bob"],
    r"^o-[a-z0-9]{10,32}$": ["o-abcdefghij"],
    r"[\d]+": ["123456"],
    r"^o-[0-9a-z]{10,32}\/r-[0-9a-z]{4,32}[0-9a-z-\/]*": ["o-abcdefghij/r-ab12/ou-ab12-cdefgh12"],
    r"^p-[0-9a-zA-Z_]{8,128}$": ["p-FullAWSAccess"],
    r"[\u0020-\u00FF]+": ["marker-token-1", "opaque marker"],
    r"^[a-zA-Z0-9:/+=,.@_-]+$": ["arn:aws:iam::123456789012:root"],
    r"[\w-]*": ["iam", "s3"],
    r"[A-Z0-9]+": ["KMSPRIVATEKEYID1234567890"],
    r"[:\w]+": ["ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"],
    r"\u002F[\u0021-\u007F]*": ["/", "/division/"],
    r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+": [
        "arn:aws:iam::123456789012:user/bob",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ],
    r"[\w+=,.@:\/-]*": ["external-id:123"],
    r"[\w+=/:,.@-]*": ["arn:aws:iam::123456789012:mfa/bob"],
    r"[\d]*": ["123456"],
    r"[\w]*": ["AKIAIOSFODNN7EXAMPLE"],
    r"[\w+=,.@:-]*": ["AROA1234567890EXAMPLE:session"],
    r"[\w+=,.@\:-]*": ["123456789012:bob"],
    # CodeCommit
    r"[\w\.-]+": ["MyDemoRepo", "my.repo-1_x"],
    r"^[a-zA-Z0-9:/_-]+$": ["alias/aws/codecommit", "1234abcd-12ab-34cd-56ef-1234567890ab"],
    # Organizations (JSON 1.1).
    r"^h-[0-9a-z]{8,32}$": ["h-examplehandshakeid111"],
    r"^(r-[0-9a-z]{4,32})|(\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$": [
        "r-ab12",
        "111111111111",
        "ou-ab12-cdef3456",
    ],
    r"^\d{12}$": ["111111111111"],
    r"[^\s@]+@[^\s@]+\.[^\s@]+": ["dev@example.com"],
    r"[\u0020-\u007E]+": ["Development Account"],
    r"[\w+=,.@-]{1,64}": ["OrganizationAccountAccessRole"],
    r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$": ["env", "cost center"],
    r"^(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$": ["r-ab12", "ou-ab12-cdef3456"],
    r"[\s\S]*": ["Sandbox", "a description\nwith lines"],
    r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$": ["ou-ab12-cdef3456"],
    r"^car-[a-z0-9]{8,32}$": ["car-abcdefgh12345678"],
    r"^rt-[0-9a-z]{8,32}$": ["rt-abcdefgh1234"],
    r"^r-[0-9a-z]{4,32}$": ["r-ab12"],
    r"^[ -~]+$": ["transfer one"],
    r"^(\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$": ["111111111111", "ou-ab12-cdef3456"],
    r"^(r-[0-9a-z]{4,32})|(\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})|(^p-[0-9a-zA-Z_]{8,128})|(^rp-[0-9a-zA-Z_]{4,128})|(^rt-[0-9a-zA-Z_]{8,32})$": [  # noqa: E501
        "r-ab12",
        "111111111111",
        "p-abcdefgh",
    ],
}

# Characters that exercise form encoding (space, +, %, &, =, /) and non-ASCII text.
_FREE_TEXT = "abcXYZ019 +%&=/:é☃"
# Output text exercises XML escaping; \r must survive as a character reference.
_OUTPUT_TEXT = ["plain", "a & b < c > d", "quote \" and ' ok", "cr\r\nlf\ttab", "ünïcødé ☃ 𝄞"]
_POLICY_JSON = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/100% + more"}]}'
)
_MAX_DEPTH = 6


def _length_bounds(shape: Any, default_max: int) -> tuple[int, int]:
    low: int = shape.metadata.get("min", 0)
    high: int = shape.metadata.get("max", max(low, default_max))
    return low, high


class InputGenerator:
    """Valid input params for an operation; ``full`` fills every optional member."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def structure(self, shape: Any, *, full: bool, depth: int = 0) -> dict[str, Any]:
        required = set(shape.required_members)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if name in required or (full and depth < _MAX_DEPTH):
                out[name] = self.value(member, full=full, depth=depth + 1)
        if not out and shape.members and depth > 0:
            # The Query protocol cannot send an empty structure (it has no keys), so a
            # required structure with only optional members needs one of them.
            name, member = next(iter(shape.members.items()))
            out[name] = self.value(member, full=full, depth=depth + 1)
        return out

    def value(self, shape: Any, *, full: bool, depth: int) -> Any:
        kind = shape.type_name
        rng = self.rng
        if kind == "structure":
            return self.structure(shape, full=full, depth=depth)
        if kind == "list":
            low, high = _length_bounds(shape, 3)
            count = rng.randint(max(low, 1), max(min(high, 3), low, 1))
            return [self.value(shape.member, full=full, depth=depth + 1) for _ in range(count)]
        if kind == "map":
            return {
                self.value(shape.key, full=full, depth=depth + 1): self.value(
                    shape.value, full=full, depth=depth + 1
                )
                for _ in range(2)
            }
        if kind == "string":
            return self.string(shape)
        if kind in ("integer", "long"):
            low = shape.metadata.get("min", 0)
            high = shape.metadata.get("max", low + 1000)
            return rng.randint(low, min(high, low + 1000))
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "timestamp":
            return datetime(2024, 2, 29, 12, 34, 56, tzinfo=UTC)
        if kind == "blob":
            low, high = _length_bounds(shape, 24)
            return rng.randbytes(rng.randint(max(low, 1), min(high, 24)))
        raise AssertionError(f"no generator for {kind}")

    def string(self, shape: Any) -> str:
        meta = shape.metadata
        rng = self.rng
        if "enum" in meta:
            return str(rng.choice(meta["enum"]))
        low, high = _length_bounds(shape, 20)
        pattern = meta.get("pattern")
        if pattern is not None:
            fullmatch = compile_pattern(pattern)
            fits = [
                sample
                for sample in PATTERN_SAMPLES.get(pattern, [])
                if low <= len(sample) <= high and fullmatch(sample)
            ]
            assert fits, f"no known-good sample for {shape.name} pattern {pattern!r}"
            return rng.choice(fits)
        size = rng.randint(max(low, 1), max(min(high, 16), low, 1))
        return "".join(rng.choice(_FREE_TEXT) for _ in range(size))


class OutputGenerator:
    """A full output: every member, non-empty lists and maps, awkward strings."""

    def __init__(self, seed: int, *, millisecond_timestamps: bool) -> None:
        self.rng = random.Random(seed)
        self.millis = millisecond_timestamps

    def value(self, shape: Any, depth: int = 0) -> Any:
        kind = shape.type_name
        rng = self.rng
        if kind == "structure":
            if depth >= _MAX_DEPTH:
                return {}
            return {name: self.value(member, depth + 1) for name, member in shape.members.items()}
        if kind == "list":
            return [self.value(shape.member, depth + 1) for _ in range(2)]
        if kind == "map":
            keys = shape.key.metadata.get("enum") or ["k1", "k & 2"]
            return {key: self.value(shape.value, depth + 1) for key in keys[:3]}
        if kind == "string":
            if shape.name == POLICY_DOCUMENT_SHAPE:
                return _POLICY_JSON
            if "enum" in shape.metadata:
                return str(rng.choice(shape.metadata["enum"]))
            return f"{rng.choice(_OUTPUT_TEXT)} #{rng.randint(0, 999)}"
        if kind in ("integer", "long"):
            return rng.randint(-5, 10**6)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "timestamp":
            micro = rng.randint(0, 999) * 1000 if self.millis else 0
            return datetime(2011, 7, 15, 23, 28, 33, micro, tzinfo=UTC)
        if kind == "blob":
            return rng.randbytes(rng.randint(1, 40))
        raise AssertionError(f"no generator for {kind}")
