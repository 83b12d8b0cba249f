"""AWS Organizations' identifiers, random in AWS's formats.

o-[a-z0-9]{10,32} (organization), r-[0-9a-z]{4,32} (root),
ou-<root's suffix>-[a-z0-9]{8,32} (OU, named after its root as AWS does),
p-[0-9a-z]{8,128} (policy), car-[a-z0-9]{8,32} (CreateAccount request).
"""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def organization_id() -> str:
    return "o-" + _random(10)


def root_id() -> str:
    return "r-" + _random(4)


def ou_id(root: str) -> str:
    return f"ou-{root.removeprefix('r-')}-{_random(8)}"


def policy_id() -> str:
    return "p-" + _random(8)


def create_account_request_id() -> str:
    return "car-" + _random(32)
