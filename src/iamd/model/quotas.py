"""Account quotas: AWS's defaults, some adjustable for a self-hosted deployment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quotas:
    users: int = 5000
    groups: int = 300
    roles: int = 1000
    policies: int = 1500
    instance_profiles: int = 1000
    server_certificates: int = 20
    oidc_providers: int = 100
    client_ids_per_oidc_provider: int = 100
    thumbprints_per_oidc_provider: int = 5
    saml_providers: int = 100
    access_keys_per_user: int = 2
    signing_certificates_per_user: int = 2
    ssh_public_keys_per_user: int = 5
    service_specific_credentials_per_user_per_service: int = 2
    # MFA devices in use per user (AWS raised it from 1 to 8 in 2022).
    mfa_devices_per_user: int = 8
    groups_per_user: int = 10
    attached_policies_per_user: int = 10
    attached_policies_per_group: int = 10
    attached_policies_per_role: int = 10
    policy_size: int = 6144
    user_policy_size: int = 2048
    group_policy_size: int = 5120
    role_policy_size: int = 10240
    assume_role_policy_size: int = 2048
    versions_per_policy: int = 5
    policy_versions_in_use: int = 10000
    tags_per_resource: int = 50
