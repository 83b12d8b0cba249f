"""Batched recording of when, where and for which service each access key was used,
and of when and where a session of each role last made a request.

Every authenticated request notes its key's use in memory (and, for a role session,
`record_role` its role's); a background thread writes the latest use of each in one
batch per interval, and `close()` writes what is left, so nothing is lost at shutdown.
Readers merge the pending uses in, so GetAccessKeyLastUsed and GetRole's RoleLastUsed
are exact even between flushes. A batch being written stays visible as pending until
its transaction has committed: a reader that asks for the pending use first and reads
the stored row second (as they all do) sees a use either way, never neither.

`record_service` keeps the IAM access advisor's record the same way: per account,
principal (user or role ARN) and service namespace the latest authenticated use, and
for the services AWS tracks at action level (ACTION_LEVEL_SERVICES) per action too.
On the request path it is a dictionary update; the rows are written with the batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial

from iamd.errors import ServiceUnavailable
from iamd.store.database import Database
from iamd.store.sql.access_keys import AccessKeyRepository, LastUse
from iamd.store.sql.roles import RoleLastUse, record_role_last_uses
from iamd.store.sql.service_last_accessed import (
    SERVICE_LEVEL,
    ServiceUse,
    record_service_uses,
)

log = logging.getLogger(__name__)

# The services whose actions AWS's access advisor tracks one by one ("IAM action last
# accessed information services and actions": Amazon EC2, IAM, AWS Lambda and Amazon S3
# management actions). Of these, iamd serves iam.
ACTION_LEVEL_SERVICES = frozenset({"ec2", "iam", "lambda", "s3"})

_ServiceKey = tuple[str, str, str, str]  # account, principal ARN, namespace, action


def _service_uses(pending: dict[_ServiceKey, tuple[datetime, str]]) -> list[ServiceUse]:
    return [ServiceUse(*key, when, region) for key, (when, region) in pending.items()]


class LastUsedRecorder:
    def __init__(self, database: Database, flush_seconds: float) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._pending: dict[str, LastUse] = {}
        self._pending_roles: dict[str, RoleLastUse] = {}
        self._pending_services: dict[_ServiceKey, tuple[datetime, str]] = {}
        # The batch `flush` is writing: still "pending" to readers until it commits.
        self._writing: dict[str, LastUse] = {}
        self._writing_roles: dict[str, RoleLastUse] = {}
        self._batches_written = 0
        self._swap_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, access_key_id: str, when: datetime, service: str, region: str) -> None:
        use = LastUse(access_key_id, when, service, region)
        with self._swap_lock:
            self._pending[access_key_id] = use

    def record_role(self, role_id: str, when: datetime, region: str) -> None:
        """A session of the role made a request (sts's request path calls this)."""
        use = RoleLastUse(role_id, when, region)
        with self._swap_lock:
            self._pending_roles[role_id] = use

    def record_service(
        self,
        account_id: str,
        principal_arn: str,
        service: str,
        action: str,
        when: datetime,
        region: str,
    ) -> None:
        """The principal (a user's ARN, or a role's for its sessions) authenticated to
        `service:action` (the access advisor's LastAuthenticated)."""
        # Only tuples on the request path: the rows are made when the batch is written.
        use = (when, region)
        with self._swap_lock:
            self._pending_services[(account_id, principal_arn, service, SERVICE_LEVEL)] = use
            if service in ACTION_LEVEL_SERVICES and action:
                self._pending_services[(account_id, principal_arn, service, action)] = use

    def pending_services(self) -> list[ServiceUse]:
        with self._swap_lock:
            return _service_uses(self._pending_services)

    def pending(self, access_key_id: str) -> LastUse | None:
        """The key's use not yet committed; ask before reading the stored one."""
        with self._swap_lock:
            return self._pending.get(access_key_id) or self._writing.get(access_key_id)

    @property
    def batches_written(self) -> int:
        """Changes whenever a batch has left pending for the database: a reader that had
        to read the stored row before it could ask for the pending use compares it."""
        return self._batches_written

    def pending_role(self, role_id: str) -> RoleLastUse | None:
        """The role's use not yet committed; ask before reading the stored one."""
        with self._swap_lock:
            return self._pending_roles.get(role_id) or self._writing_roles.get(role_id)

    def flush(self) -> int:
        with self._flush_lock:
            with self._swap_lock:
                batch, self._pending = self._pending, {}
                roles, self._pending_roles = self._pending_roles, {}
                services, self._pending_services = self._pending_services, {}
                self._writing, self._writing_roles = batch, roles
            if not batch and not roles and not services:
                return 0
            try:
                self._write(batch.values(), roles.values(), _service_uses(services))
            except ServiceUnavailable:
                self._keep_for_next_attempt(batch, roles, services)
                raise
            except Exception:
                # One row the database refuses must not hold back the others (retried
                # as a batch, it would fail every time): each is written on its own.
                return self._write_one_by_one(batch, roles, services)
            finally:
                with self._swap_lock:
                    self._writing, self._writing_roles = {}, {}
                    self._batches_written += 1
            return len(batch) + len(roles) + len(services)

    def _keep_for_next_attempt(
        self,
        batch: dict[str, LastUse],
        roles: dict[str, RoleLastUse],
        services: dict[_ServiceKey, tuple[datetime, str]],
    ) -> None:
        """The database is away: the uses wait for the next flush; newer ones recorded
        meanwhile win."""
        with self._swap_lock:
            for key_id, use in batch.items():
                self._pending.setdefault(key_id, use)
            for role_id, role_use in roles.items():
                self._pending_roles.setdefault(role_id, role_use)
            for service_key, service_use in services.items():
                self._pending_services.setdefault(service_key, service_use)

    def _write(
        self,
        key_uses: Iterable[LastUse],
        role_uses: Iterable[RoleLastUse],
        service_uses: list[ServiceUse],
    ) -> None:
        with self._database.write() as conn:
            AccessKeyRepository(conn).record_last_uses(key_uses)
            record_role_last_uses(conn, role_uses)
            record_service_uses(conn, service_uses)

    def _write_one_by_one(
        self,
        batch: dict[str, LastUse],
        roles: dict[str, RoleLastUse],
        services: dict[_ServiceKey, tuple[datetime, str]],
    ) -> int:
        rows: list[tuple[str, Callable[[], None]]] = [
            *(
                (f"access key {key_id}", partial(self._write, [use], [], []))
                for key_id, use in batch.items()
            ),
            *(
                (f"role {role_id}", partial(self._write, [], [use], []))
                for role_id, use in roles.items()
            ),
            *(
                (f"service use of {key[1]} ({key[2]})", partial(self._write, [], [], [use]))
                for key, use in zip(services, _service_uses(services), strict=True)
            ),
        ]
        written = 0
        for what, write in rows:
            try:
                write()
                written += 1
            except ServiceUnavailable:
                # Rewriting the rows already written is harmless: the same dates.
                self._keep_for_next_attempt(batch, roles, services)
                raise
            except Exception:
                # Dropped rather than retried for ever: a last-used date is a hint,
                # the next request of the same key records it again.
                log.exception("could not record the last use of %s; dropped", what)
        return written

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="iamd-last-used", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            try:
                self.flush()
            except ServiceUnavailable:
                pass  # the database is away (logged once by it); kept for the next try
            except Exception:
                log.exception("could not write access key last-used dates; will retry")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
