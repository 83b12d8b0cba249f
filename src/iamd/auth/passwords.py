"""Password hashing with argon2id: hash, verify, and a dummy hash for unknown users.

Hashes are argon2id strings (`$argon2id$v=19$m=...`) that carry their own salt and
parameters, so the parameters can be raised later and old hashes still verify (and are
re-hashed at the next successful sign-in). The parameters follow OWASP's baseline for
argon2id (19 MiB, 2 passes, 1 lane): about 20-40 ms of one core here, which is the
point: the work is what makes a stolen database expensive to attack. Callers run these
functions off the event loop (the write thread pool).
"""

from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHashing:
    def __init__(self, *, time_cost: int = 2, memory_kib: int = 19 * 1024, lanes: int = 1) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=lanes,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches; a malformed stored hash never matches."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    @cached_property
    def dummy_hash(self) -> str:
        """A hash of nothing anyone knows, verified when the user does not exist.

        Checking a password against it costs what a real check costs, so the answer
        for an unknown user takes as long as the answer for a wrong password.
        """
        return self._hasher.hash("iamd: no such user, no such password")

    def spend_like_verify(self, password: str) -> None:
        self.verify(self.dummy_hash, password)
