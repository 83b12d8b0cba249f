"""STS session tokens: the temporary credential is the token, sealed by the server.

A session (GetSessionToken, AssumeRole, GetFederationToken, AssumeRoot) needs no table: everything
the server must know about it (the ``ASIA`` access key id, the secret that requests are
signed with, who the session is for, when it was issued and expires, the MFA
authentication time, session policies, session tags, source identity) is written into
the session token, sealed with the server's AES-256-GCM ``SecretBox`` under the master
key. The associated data names the access key id, so a token opens only together with
the key id it was issued with; any node that shares the master key can open it. What
the session may do is still decided per request from the current database (a deleted
user or role ends its sessions at once).

The secret access key travels only inside the sealed token and in the response that
issued it: it is never stored, logged or shown in a repr.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from iamd.auth.secret_box import SecretBox

__all__ = [
    "MAX_TOKEN_CHARS",
    "InvalidSessionToken",
    "SessionClaims",
    "SessionKind",
    "SessionTokens",
]

# Larger than any token iamd issues (session policies are at most a few KiB); anything
# longer is refused before it is decoded.
MAX_TOKEN_CHARS = 16_384
_FORMAT = 1


class SessionKind(StrEnum):
    # GetSessionToken: the IAM user itself, possibly with MFA.
    USER = "user"
    # AssumeRole: a role session.
    ROLE = "role"
    # GetFederationToken: a federated user of the IAM user that asked, limited to the
    # session policies passed (the federated user's name is the session name).
    FEDERATED = "federated"
    # AssumeRoot: the root user of a member account (the principal id is the account
    # id), restricted by the one root-task policy in `policy_arns`.
    ROOT = "root"
    # A web console sign-in (http/console): the IAM user itself, with MFA when it signed
    # in with a code. Never sealed into a token: the console keeps it server-side.
    CONSOLE = "console"


class InvalidSessionToken(ValueError):
    """The token does not open with this access key id (forged, tampered, foreign)."""


@dataclass(frozen=True, slots=True)
class SessionClaims:
    """What a sealed session token says; immutable once issued."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    kind: SessionKind
    # The IAM user's id (AIDA...) for USER and FEDERATED sessions, the role's id
    # (AROA...) for ROLE, the member account's id for ROOT.
    principal_id: str
    issued: int  # epoch seconds
    expires: int  # epoch seconds; the session is refused from this second on
    # When the MFA code was verified (epoch seconds); None: no MFA in this session.
    mfa_authenticated: int | None = None
    session_name: str | None = None
    source_identity: str | None = None
    # Session policies (AssumeRole Policy and PolicyArns), intersected with the role's.
    session_policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    # Session tags (key, value), and which of them pass on to chained sessions.
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    # Issued to a role session (role chaining): capped at one hour.
    chained: bool = False
    # GetDelegatedAccessToken's sessions: the delegation request they were issued for
    # (a federated one may call IAM, unlike GetFederationToken's: docs/delegation.md).
    delegation_request: str | None = None

    @property
    def has_session_policies(self) -> bool:
        return self.session_policy is not None or bool(self.policy_arns)


class SessionTokens:
    """Seals claims into session tokens and opens them again."""

    __slots__ = ("_box",)

    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def seal(self, claims: SessionClaims) -> str:
        payload = json.dumps(_to_json(claims), separators=(",", ":"), ensure_ascii=False)
        sealed = self._box.seal(payload, _context(claims.access_key_id))
        return base64.b64encode(sealed).decode("ascii")

    def open(self, token: str, access_key_id: str) -> SessionClaims:
        """The claims of ``token``; InvalidSessionToken unless it was sealed by this
        server for exactly ``access_key_id``."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidSessionToken()
        try:
            sealed = base64.b64decode(token.encode("ascii"), validate=True)
            payload = self._box.open(sealed, _context(access_key_id))
            claims = _from_json(json.loads(payload))
        except (binascii.Error, UnicodeEncodeError, ValueError, KeyError, TypeError):
            raise InvalidSessionToken() from None
        if claims.access_key_id != access_key_id:
            raise InvalidSessionToken()
        return claims


def _context(access_key_id: str) -> bytes:
    return b"sts-session:" + access_key_id.encode("utf-8", "surrogatepass")


def _to_json(claims: SessionClaims) -> dict[str, Any]:
    data: dict[str, Any] = {
        "v": _FORMAT,
        "k": claims.access_key_id,
        "s": claims.secret_access_key,
        "t": claims.kind.value,
        "p": claims.principal_id,
        "i": claims.issued,
        "e": claims.expires,
    }
    optional: dict[str, Any] = {
        "m": claims.mfa_authenticated,
        "n": claims.session_name,
        "si": claims.source_identity,
        "sp": claims.session_policy,
        "pa": list(claims.policy_arns) or None,
        "tg": [list(tag) for tag in claims.tags] or None,
        "tt": list(claims.transitive_tag_keys) or None,
        "c": claims.chained or None,
        "dr": claims.delegation_request,
    }
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


def _from_json(data: Any) -> SessionClaims:
    if not isinstance(data, dict) or data.get("v") != _FORMAT:
        raise ValueError("unknown session token format")
    mfa = data.get("m")
    return SessionClaims(
        access_key_id=_str(data["k"]),
        secret_access_key=_str(data["s"]),
        kind=SessionKind(data["t"]),
        principal_id=_str(data["p"]),
        issued=_int(data["i"]),
        expires=_int(data["e"]),
        mfa_authenticated=None if mfa is None else _int(mfa),
        session_name=_optional_str(data.get("n")),
        source_identity=_optional_str(data.get("si")),
        session_policy=_optional_str(data.get("sp")),
        policy_arns=tuple(_str(arn) for arn in data.get("pa", ())),
        tags=tuple((_str(k), _str(v)) for k, v in data.get("tg", ())),
        transitive_tag_keys=tuple(_str(k) for k in data.get("tt", ())),
        chained=data.get("c") is True,
        delegation_request=_optional_str(data.get("dr")),
    )


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected an integer")
    return value
