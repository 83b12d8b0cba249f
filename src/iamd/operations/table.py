"""The table of every operation iamd serves."""

from __future__ import annotations

from iamd.operations import (
    cloudtrail,
    codecommit,
    iam,
    identitystore,
    organizations,
    sso_admin,
    sts,
)
from iamd.operations.registry import OperationTable


def build_operation_table() -> OperationTable:
    return OperationTable(
        (
            *iam.OPERATIONS,
            *sts.OPERATIONS,
            *codecommit.OPERATIONS,
            *organizations.OPERATIONS,
            *cloudtrail.OPERATIONS,
            *identitystore.OPERATIONS,
            *sso_admin.OPERATIONS,
        )
    )
