"""Delegation requests, shared by the partner's account and the customer's.

Not bound to one account like the other repositories: a request is found by its id
from either side, and the service decides who may see it. Listing pages by id, which
sorts in creation order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from iamd.errors import EntityAlreadyExists
from iamd.model.delegation import (
    OPEN_STATES,
    DelegationRequest,
    DelegationState,
    PolicyParameter,
)
from iamd.store.schema import delegation_requests

_t = delegation_requests


def _to_request(row: Row[Any]) -> DelegationRequest:
    permissions = json.loads(row.permissions)
    return DelegationRequest(
        request_id=row.request_id,
        requestor_account=row.requestor_account,
        requestor_name=row.requestor_name,
        workflow_id=row.workflow_id,
        description=row.description,
        request_message=row.request_message,
        policy_template_arn=permissions.get("template"),
        parameters=tuple(
            PolicyParameter(p["name"], tuple(p["values"]), p["type"])
            for p in permissions.get("parameters", ())
        ),
        permission_policy=row.permission_policy,
        redirect_url=row.redirect_url,
        notification_channel=row.notification_channel,
        session_duration=row.session_duration,
        only_send_by_owner=bool(row.only_send_by_owner),
        owner_account=row.owner_account,
        owner_id=row.owner_id,
        approver_id=row.approver_id,
        state=DelegationState(row.state),
        notes=row.notes,
        rejection_reason=row.rejection_reason,
        create_date=row.create_date,
        updated_time=row.updated_time,
        expiration_time=row.expiration_time,
    )


class DelegationRequestRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, request: DelegationRequest) -> None:
        permissions = {
            "template": request.policy_template_arn,
            "parameters": [
                {"name": p.name, "values": list(p.values), "type": p.kind}
                for p in request.parameters
            ],
        }
        try:
            self._conn.execute(
                insert(_t),
                {
                    "request_id": request.request_id,
                    "requestor_account": request.requestor_account,
                    "requestor_name": request.requestor_name,
                    "workflow_id": request.workflow_id,
                    "description": request.description,
                    "request_message": request.request_message,
                    "permissions": json.dumps(permissions),
                    "permission_policy": request.permission_policy,
                    "redirect_url": request.redirect_url,
                    "notification_channel": request.notification_channel,
                    "session_duration": request.session_duration,
                    "only_send_by_owner": request.only_send_by_owner,
                    "owner_account": request.owner_account,
                    "owner_id": request.owner_id,
                    "approver_id": request.approver_id,
                    "state": request.state.value,
                    "notes": request.notes,
                    "rejection_reason": request.rejection_reason,
                    "create_date": request.create_date,
                    "updated_time": request.updated_time,
                    "expiration_time": request.expiration_time,
                },
            )
        except IntegrityError as exc:
            raise EntityAlreadyExists.delegation_workflow(request.workflow_id) from exc

    def get(self, request_id: str, *, for_update: bool = False) -> DelegationRequest | None:
        query = select(_t).where(_t.c.request_id == request_id)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return _to_request(row) if row else None

    def by_token_hash(self, digest: bytes) -> DelegationRequest | None:
        row = self._conn.execute(select(_t).where(_t.c.token_hash == digest)).first()
        return _to_request(row) if row else None

    def workflow_taken(self, requestor_account: str, workflow_id: str) -> bool:
        query = select(_t.c.request_id).where(
            _t.c.requestor_account == requestor_account, _t.c.workflow_id == workflow_id
        )
        return self._conn.execute(query).first() is not None

    def count_open(self, requestor_account: str, now: datetime) -> int:
        query = (
            select(func.count())
            .select_from(_t)
            .where(
                _t.c.requestor_account == requestor_account,
                _t.c.state.in_([s.value for s in OPEN_STATES]),
                _t.c.expiration_time > now,
            )
        )
        return int(self._conn.execute(query).scalar_one())

    def change(self, request_id: str, values: Mapping[str, Any]) -> None:
        stored = {k: (v.value if isinstance(v, DelegationState) else v) for k, v in values.items()}
        self._conn.execute(update(_t).where(_t.c.request_id == request_id).values(stored))

    def listing(
        self, account_id: str, owner_id: str | None, after: str | None, limit: int
    ) -> list[DelegationRequest]:
        """The account's requests: those it owns (with an owner) and those it made, from
        the id after `after`, at most `limit`."""
        owned = and_(_t.c.owner_account == account_id, _t.c.owner_id.is_not(None))
        query = select(_t).where(or_(owned, _t.c.requestor_account == account_id))
        if owner_id is not None:
            query = query.where(_t.c.owner_id == owner_id)
        if after is not None:
            query = query.where(_t.c.request_id > after)
        rows = self._conn.execute(query.order_by(_t.c.request_id).limit(limit))
        return [_to_request(row) for row in rows]
