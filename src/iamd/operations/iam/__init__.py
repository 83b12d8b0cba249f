"""IAM operations (API version 2010-05-08)."""

from iamd.operations.iam import (
    access_keys,
    account,
    authorization_details,
    credential_report,
    groups,
    inline_policies,
    instance_profiles,
    mfa_devices,
    passwords,
    permissions_boundaries,
    policies,
    roles,
    server_certificates,
    service_linked_roles,
    signing_certificates,
    simulation,
    ssh_public_keys,
    users,
)
from iamd.operations.registry import Operation

OPERATIONS: tuple[Operation, ...] = (
    *users.OPERATIONS,
    *groups.OPERATIONS,
    *roles.OPERATIONS,
    *instance_profiles.OPERATIONS,
    *service_linked_roles.OPERATIONS,
    *policies.OPERATIONS,
    *inline_policies.OPERATIONS,
    *permissions_boundaries.OPERATIONS,
    *access_keys.OPERATIONS,
    *ssh_public_keys.OPERATIONS,
    *signing_certificates.OPERATIONS,
    *server_certificates.OPERATIONS,
    *mfa_devices.OPERATIONS,
    *account.OPERATIONS,
    *authorization_details.OPERATIONS,
    *credential_report.OPERATIONS,
    *simulation.OPERATIONS,
    *passwords.OPERATIONS,
)
