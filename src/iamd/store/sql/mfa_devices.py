"""Virtual MFA devices: rows of `mfa_devices`, their sealed seed and their tags.

The seed leaves this module only sealed (`sealed_seed`); opening it is the service's
business, under the secret box.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model import Tag, User, iam_arn
from iamd.model.mfa_devices import AssignmentStatus, VirtualMFADevice
from iamd.model.page import Page
from iamd.store.schema import mfa_device_tags, mfa_devices, users
from iamd.store.sql.paging import decode_marker, page_of
from iamd.store.sql.tags import TagRepository


class MFADeviceRepository:
    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id
        self.tags = TagRepository(conn, mfa_device_tags, "serial_number")

    def _device(self, row: Row[Any], tags: tuple[Tag, ...] = ()) -> VirtualMFADevice:
        user = None
        if row.user_id is not None:
            user = User(
                user_id=row.user_id,
                name=row.user_name,
                path=row.user_path,
                arn=iam_arn(self._account_id, "user", row.user_path, row.user_name),
                create_date=row.user_create_date,
                password_last_used=row.user_password_last_used,
            )
        return VirtualMFADevice(
            serial_number=row.serial_number,
            name=row.name,
            path=row.path,
            create_date=row.create_date,
            user=user,
            enable_date=row.enable_date,
            last_used_step=row.last_used_step,
            tags=tags,
            drift_steps=row.drift_steps,
        )

    def get(self, serial_number: str, *, for_update: bool = False) -> VirtualMFADevice | None:
        query = _BY_SERIAL_FOR_UPDATE if for_update else _BY_SERIAL
        row = self._conn.execute(
            query, {"serial": serial_number, "account_id": self._account_id}
        ).first()
        if row is None:
            return None
        return self._device(row, self.tags.of(serial_number))

    def sealed_seed(self, serial_number: str) -> bytes | None:
        value = self._conn.execute(
            _SEED, {"serial": serial_number, "account_id": self._account_id}
        ).scalar()
        return bytes(value) if value is not None else None

    def add(self, device: VirtualMFADevice, seed_sealed: bytes) -> None:
        try:
            self._conn.execute(
                insert(mfa_devices).values(
                    serial_number=device.serial_number,
                    account_id=self._account_id,
                    name=device.name,
                    name_lower=device.name.lower(),
                    path=device.path,
                    seed_sealed=seed_sealed,
                    create_date=device.create_date,
                )
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists(
                "MFADevice entity at the same path and name already exists."
            ) from exc
        if device.tags:
            self.tags.upsert(device.serial_number, device.tags)

    def count(self) -> int:
        query = select(func.count()).select_from(mfa_devices).where(self._in_account)
        return int(self._conn.execute(query).scalar_one())

    @property
    def _in_account(self) -> Any:
        return mfa_devices.c.account_id == self._account_id

    def count_assigned(self) -> int:
        query = select(func.count()).select_from(mfa_devices).where(self._in_account)
        return int(self._conn.execute(query.where(mfa_devices.c.user_id.is_not(None))).scalar_one())

    def count_for_user(self, user_id: str) -> int:
        return int(self._conn.execute(_COUNT_OF_USER, {"user_id": user_id}).scalar_one())

    def for_user(self, user_id: str) -> list[VirtualMFADevice]:
        return [self._device(r) for r in self._conn.execute(_OF_USER, {"user_id": user_id})]

    def assign(
        self, serial_number: str, user_id: str, when: datetime, step: int, drift: int
    ) -> None:
        self._conn.execute(
            update(mfa_devices)
            .where(mfa_devices.c.serial_number == serial_number)
            .values(user_id=user_id, enable_date=when, last_used_step=step, drift_steps=drift)
        )

    def unassign(self, serial_number: str) -> None:
        # last_used_step stays: a code seen before deactivation is still refused after a
        # later EnableMFADevice of the same device.
        self._conn.execute(
            update(mfa_devices)
            .where(mfa_devices.c.serial_number == serial_number)
            .values(user_id=None, enable_date=None)
        )

    def consume_step(self, serial_number: str, step: int, drift: int) -> bool:
        """Record `step` as used, and the drift it shows, unless a step as new was
        recorded first (False then).

        The condition is part of the UPDATE, so of two transactions racing with the same
        code only one changes the row, whatever the isolation level.
        """
        result = self._conn.execute(
            _CONSUME, {"serial": serial_number, "step": step, "drift": drift}
        )
        return result.rowcount == 1

    def delete(self, serial_number: str) -> None:
        # The device's tags go with it (ON DELETE CASCADE).
        self._conn.execute(delete(mfa_devices).where(mfa_devices.c.serial_number == serial_number))

    def listing(
        self, status: AssignmentStatus, marker: str | None, max_items: int
    ) -> Page[VirtualMFADevice]:
        query = (
            _SELECT.where(self._in_account)
            .order_by(mfa_devices.c.serial_number)
            .limit(max_items + 1)
        )
        if status is AssignmentStatus.ASSIGNED:
            query = query.where(mfa_devices.c.user_id.is_not(None))
        elif status is AssignmentStatus.UNASSIGNED:
            query = query.where(mfa_devices.c.user_id.is_(None))
        after = decode_marker(marker)
        if after is not None:
            query = query.where(mfa_devices.c.serial_number > after)
        page = page_of(list(self._conn.execute(query)), max_items, _serial_of)
        return Page([self._device(r) for r in page.items], page.next_marker)


def _serial_of(row: Row[Any]) -> str:
    return str(row.serial_number)


# Statements built once (see named_entities for why). The seed is never selected here.
_SELECT: Select[Any] = select(
    mfa_devices.c.serial_number,
    mfa_devices.c.name,
    mfa_devices.c.path,
    mfa_devices.c.create_date,
    mfa_devices.c.user_id,
    mfa_devices.c.enable_date,
    mfa_devices.c.last_used_step,
    mfa_devices.c.drift_steps,
    users.c.name.label("user_name"),
    users.c.path.label("user_path"),
    users.c.create_date.label("user_create_date"),
    users.c.password_last_used.label("user_password_last_used"),
).select_from(mfa_devices.outerjoin(users, users.c.user_id == mfa_devices.c.user_id))
_BY_SERIAL = _SELECT.where(
    mfa_devices.c.serial_number == bindparam("serial"),
    mfa_devices.c.account_id == bindparam("account_id"),
)
# Row lock on PostgreSQL (SQLite writers already hold the database lock).
_BY_SERIAL_FOR_UPDATE = _BY_SERIAL.with_for_update(of=mfa_devices)
_SEED = select(mfa_devices.c.seed_sealed).where(
    mfa_devices.c.serial_number == bindparam("serial"),
    mfa_devices.c.account_id == bindparam("account_id"),
)
_OF_USER = _SELECT.where(mfa_devices.c.user_id == bindparam("user_id")).order_by(
    mfa_devices.c.enable_date, mfa_devices.c.serial_number
)
_COUNT_OF_USER = (
    select(func.count())
    .select_from(mfa_devices)
    .where(mfa_devices.c.user_id == bindparam("user_id"))
)
_CONSUME = (
    update(mfa_devices)
    .where(mfa_devices.c.serial_number == bindparam("serial"))
    .where(
        mfa_devices.c.last_used_step.is_(None) | (mfa_devices.c.last_used_step < bindparam("step"))
    )
    .values(last_used_step=bindparam("step"), drift_steps=bindparam("drift"))
)
