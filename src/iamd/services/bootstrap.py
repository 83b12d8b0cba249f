"""First start: the account, and an administrator to manage it.

On an empty database iamd creates the account, the AWS managed policies it ships, a
group `Administrators` with AdministratorAccess attached, a user `admin` in it, and one
access key for `admin`: the one given by the operator (IAMD_BOOTSTRAP_ACCESS_KEY_ID and
IAMD_BOOTSTRAP_SECRET_ACCESS_KEY, for automation) or a generated one, written to a
0600 file whose path, never its content, the server prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.ids import IdPrefix
from iamd.model import AccessKey, AccessKeyStatus, Group, User, iam_arn
from iamd.principals.credentials import secret_context
from iamd.services.container import Services
from iamd.services.policies import sync_aws_managed_policies
from iamd.store.schema import group_policy_attachments

ADMIN_USER = "admin"
ADMIN_GROUP = "Administrators"

SealFunction = Callable[[str, bytes], bytes]
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    created: bool
    access_key_id: str | None = None
    credentials_file: Path | None = None


def bootstrap(
    services: Services,
    secret_box_seal: SealFunction,
    *,
    access_key_id: str | None,
    secret_access_key: str | None,
    credentials_file: Path,
) -> BootstrapResult:
    tx = services.tx
    _sync_managed_policies(services)
    with tx.read() as repos:
        if repos.account.get() is not None:
            return BootstrapResult(created=False)
    if (access_key_id is None) != (secret_access_key is None):
        raise ValueError(
            "IAMD_BOOTSTRAP_ACCESS_KEY_ID and IAMD_BOOTSTRAP_SECRET_ACCESS_KEY go together"
        )
    if access_key_id is not None and not (
        16 <= len(access_key_id) <= 128 and access_key_id.isalnum()
    ):
        raise ValueError("IAMD_BOOTSTRAP_ACCESS_KEY_ID must be 16 to 128 letters and digits")
    if secret_access_key is not None and len(secret_access_key) < 16:
        raise ValueError("IAMD_BOOTSTRAP_SECRET_ACCESS_KEY must have 16 characters or more")
    generated = access_key_id is None
    key_id = access_key_id or services.ids.key_id(IdPrefix.ACCESS_KEY)
    secret = secret_access_key or services.ids.secret_access_key()
    now = services.clock.now()
    try:
        _create_account_and_admin(services, secret_box_seal, key_id, secret, now)
    except (IntegrityError, EntityAlreadyExists):
        # Another node sharing the database bootstrapped it at the same moment; its
        # transaction won and ours left nothing behind.
        return BootstrapResult(created=False)
    written: Path | None = None
    if generated:
        write_credentials_file(credentials_file, key_id, secret)
        written = credentials_file
    return BootstrapResult(created=True, access_key_id=key_id, credentials_file=written)


def _sync_managed_policies(services: Services) -> None:
    # Nodes starting together may insert the same AWS policy at once; the loser retries
    # and then finds it.
    for attempt in range(3):
        try:
            sync_aws_managed_policies(services.tx, services.clock)
            return
        except (IntegrityError, EntityAlreadyExists):
            if attempt == 2:
                raise


def _create_account_and_admin(
    services: Services, secret_box_seal: SealFunction, key_id: str, secret: str, now: datetime
) -> None:
    """The account, the Administrators group, the admin user and its key: all or nothing."""
    tx = services.tx
    with tx.write() as repos:
        repos.account.create(now)
        group = Group(
            group_id=services.ids.entity_id(IdPrefix.GROUP),
            name=ADMIN_GROUP,
            path="/",
            arn=iam_arn(tx.account_id, "group", "/", ADMIN_GROUP),
            create_date=now,
        )
        repos.groups.add(group)
        admin_policy = repos.policies.get_by_arn(ADMINISTRATOR_ACCESS)
        if admin_policy is None:
            raise RuntimeError("AdministratorAccess is missing from the shipped policies")
        repos.policies.attach(
            group_policy_attachments, "group_id", group.group_id, admin_policy.policy_id, now
        )
        user = User(
            user_id=services.ids.entity_id(IdPrefix.USER),
            name=ADMIN_USER,
            path="/",
            arn=iam_arn(tx.account_id, "user", "/", ADMIN_USER),
            create_date=now,
        )
        repos.users.add(user)
        repos.groups.add_member(group.group_id, user.user_id, now)
        key = AccessKey(
            access_key_id=key_id,
            user_id=user.user_id,
            user_name=user.name,
            status=AccessKeyStatus.ACTIVE,
            create_date=now,
        )
        repos.access_keys.add(key, secret_box_seal(secret, secret_context(key_id)))


def write_credentials_file(path: Path, access_key_id: str, secret_access_key: str) -> None:
    """Write the bootstrap key in the AWS shared-credentials format, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = (
        "[iamd-admin]\n"
        f"aws_access_key_id = {access_key_id}\n"
        f"aws_secret_access_key = {secret_access_key}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    os.chmod(path, 0o600)
