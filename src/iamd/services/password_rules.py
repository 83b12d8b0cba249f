"""The account password policy as a value, and the rules a new password must meet.

Pure functions, no I/O. With a policy, AWS checks each field (length, character
classes, reuse); without one, AWS's default policy applies: at least 8 characters,
at least three of the four character classes (uppercase, lowercase, digits, AWS's
symbols), and not the account's name (iamd: the account id or its alias).
"""

from __future__ import annotations

from collections.abc import Iterable

from iamd.model.password_policy import PasswordPolicy

# The symbols AWS counts for RequireSymbols (UpdateAccountPasswordPolicy documentation).
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")

DEFAULT_MINIMUM_LENGTH = 8
DEFAULT_CLASSES_REQUIRED = 3


def _classes(password: str) -> dict[str, bool]:
    return {
        "uppercase": any("A" <= c <= "Z" for c in password),
        "lowercase": any("a" <= c <= "z" for c in password),
        "numbers": any("0" <= c <= "9" for c in password),
        "symbols": any(c in SYMBOLS for c in password),
    }


def broken_rules(
    policy: PasswordPolicy | None, password: str, account_names: Iterable[str]
) -> list[str]:
    """The rules the password breaks (empty when it is acceptable); reuse is checked apart."""
    found = _classes(password)
    broken: list[str] = []
    if policy is None:
        if len(password) < DEFAULT_MINIMUM_LENGTH:
            broken.append(f"be at least {DEFAULT_MINIMUM_LENGTH} characters long")
        if sum(found.values()) < DEFAULT_CLASSES_REQUIRED:
            broken.append("contain three of: uppercase, lowercase, numbers, symbols")
        if any(password.lower() == name.lower() for name in account_names if name):
            broken.append("not be the account's name")
        return broken
    if len(password) < policy.minimum_password_length:
        broken.append(f"be at least {policy.minimum_password_length} characters long")
    wanted = {
        "uppercase": policy.require_uppercase_characters,
        "lowercase": policy.require_lowercase_characters,
        "numbers": policy.require_numbers,
        "symbols": policy.require_symbols,
    }
    broken.extend(
        f"contain {kind}" for kind, required in wanted.items() if required and not found[kind]
    )
    return broken
