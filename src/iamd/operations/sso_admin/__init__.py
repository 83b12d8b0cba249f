"""IAM Identity Center's administration API (`sso-admin`, JSON 1.1, API 2020-07-20),
authorized as `sso:<Operation>`."""

from iamd.operations.registry import Operation
from iamd.operations.sso_admin import instances, permission_sets

OPERATIONS: tuple[Operation, ...] = (*instances.OPERATIONS, *permission_sets.OPERATIONS)
