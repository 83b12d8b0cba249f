"""AWS Organizations operations (API version 2016-11-28, JSON 1.1 protocol)."""

from iamd.operations.organizations import (
    accounts,
    organization,
    policies,
    service_access,
    tags,
    units,
)
from iamd.operations.registry import Operation

OPERATIONS: tuple[Operation, ...] = (
    *organization.OPERATIONS,
    *accounts.OPERATIONS,
    *units.OPERATIONS,
    *policies.OPERATIONS,
    *tags.OPERATIONS,
    *service_access.OPERATIONS,
)
