"""The one place where a request's parameters and an operation's result become the
audit trail's `requestParameters` and `responseElements`, with every secret removed.

Driven by botocore's model: a member is dropped when its shape carries the `sensitive`
trait, or when its name is in `SECRET_MEMBERS` (secrets the model does not mark:
secret access keys, session tokens, TOTP seeds, QR codes, private keys, MFA codes).
Blobs are dropped whole (a QR PNG, an SSH key blob: nothing a reader of a trail needs).
Members the model does not name are dropped too, so a value the handler adds by
mistake never reaches the trail. Names become lowerCamelCase and timestamps
Java-style (`Jul 30, 2024 9:53:13 PM`), as CloudTrail writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from iamd.protocol.service_model import is_sensitive, load_service_model, lower_camel

#: Members never recorded, whatever the model says of their shapes.
SECRET_MEMBERS = frozenset(
    {
        "SecretAccessKey",
        "SessionToken",
        "Password",
        "OldPassword",
        "NewPassword",
        "Base32StringSeed",
        "QRCodePNG",
        "PrivateKey",
        "SAMLAssertion",
        "WebIdentityToken",
        "AuthenticationCode1",
        "AuthenticationCode2",
        "TokenCode",
        "ClientSecret",
        "AccessToken",
        "RefreshToken",
        "IdToken",
        "CertificatePrivateKey",
        "AddPrivateKey",
    }
)

Redactor = Callable[[Any], Any]
_DROP = object()
# A tuple, not `str | int | ...` written in the redactor: that would build a union
# object on every call (most of a small request's redaction time).
_PLAIN = (str, int, float, bool)
_CONTAINERS = ("structure", "list", "map")


def _java_time(value: datetime) -> str:
    hour = value.hour % 12 or 12
    return (
        f"{value.strftime('%b')} {value.day}, {value.year} "
        f"{hour}:{value.minute:02d}:{value.second:02d} {'AM' if value.hour < 12 else 'PM'}"
    )


def _redactor(shape: Any) -> Redactor:
    if is_sensitive(shape):
        return lambda _value: _DROP
    kind = shape.type_name
    if kind == "structure":
        members: dict[str, tuple[str, Redactor]] = {}
        for name, member in shape.members.items():
            if name in SECRET_MEMBERS or is_sensitive(member):
                continue
            members[name] = (lower_camel(name), _lazy(member))

        def structure(value: Any) -> Any:
            if not isinstance(value, Mapping):
                return _DROP
            out: dict[str, Any] = {}
            for key, item in value.items():
                found = members.get(key)
                if found is None or item is None:
                    continue
                cleaned = found[1](item)
                if cleaned is not _DROP:
                    out[found[0]] = cleaned
            return out

        return structure
    if kind == "list":
        item_redactor = _lazy(shape.member)

        def listing(value: Any) -> Any:
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                return _DROP
            return [c for c in (item_redactor(v) for v in value) if c is not _DROP]

        return listing
    if kind == "map":
        value_redactor = _lazy(shape.value)

        def mapping(value: Any) -> Any:
            if not isinstance(value, Mapping):
                return _DROP
            out = {}
            for k, v in value.items():
                cleaned = value_redactor(v)
                if cleaned is not _DROP:
                    out[str(k)] = cleaned
            return out

        return mapping
    if kind == "blob":
        return lambda _value: _DROP
    if kind == "timestamp":
        return lambda value: _java_time(value) if isinstance(value, datetime) else str(value)
    return _scalar


def _scalar(value: Any) -> Any:
    return value if isinstance(value, _PLAIN) else str(value)


def _lazy(shape: Any) -> Redactor:
    # Recursive shapes (none in these models today, but botocore allows them): resolve
    # a container member's redactor on first use, from the per-shape cache. A scalar
    # cannot recurse, and its redactor is called directly (one call less per member).
    if shape.type_name not in _CONTAINERS:
        return _redactor(shape)
    key = (shape.name, id(shape))
    cached = _by_shape.get(key)
    if cached is not None:
        return cached
    holder: list[Redactor] = []

    def forward(value: Any) -> Any:
        if not holder:
            holder.append(_redactor(shape))
        return holder[0](value)

    _by_shape[key] = forward
    return forward


_by_shape: dict[tuple[str, int], Redactor] = {}


@cache
def _operation(service: str, operation: str) -> tuple[Redactor | None, Redactor | None]:
    try:
        model = load_service_model(service).operation_model(operation)
    except Exception:  # an operation the model does not have: nothing is recorded
        return None, None
    input_shape = model.input_shape
    output_shape = model.output_shape
    return (
        _redactor(input_shape) if input_shape is not None else None,
        _redactor(output_shape) if output_shape is not None else None,
    )


def request_parameters(service: str, operation: str, params: Mapping[str, Any] | None) -> Any:
    """`requestParameters`: the decoded request without secrets (None when empty)."""
    redact = _operation(service, operation)[0]
    if redact is None or not params:
        return None
    cleaned = redact(params)
    return cleaned if cleaned and cleaned is not _DROP else None


def response_elements(service: str, operation: str, result: Mapping[str, Any] | None) -> Any:
    """`responseElements`: the operation's result without secrets (None when empty)."""
    redact = _operation(service, operation)[1]
    if redact is None or not result:
        return None
    cleaned = redact(result)
    return cleaned if cleaned and cleaned is not _DROP else None
