"""What AWS Organizations says about a principal's account: its SCPs and its place.

`OrganizationPolicySource` is the seam between principal resolution and the
Organizations use case (which lives in `services/` and so cannot be imported here): the
server hands an implementation to `PolicyCompiler`. It answers two questions about an
account:

- `scp_levels(account_id)`: the service control policy documents that restrict the
  account, one tuple per level from the root through each OU to the account itself; or
  None when nothing restricts it (no organization, SCPs not enabled, or the management
  account, which SCPs never restrict).
- `org_facts(account_id)`: `(organization id, organization paths)` when the account
  belongs to an organization, for `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths`;
  None otherwise.

`NoOrganization` is the truthful answer of a server without Organizations: nothing is
restricted and no account is in an organization.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

#: SCP documents per level: root first, then each OU down to the account.
ScpLevels = tuple[tuple[str, ...], ...]
#: The organization id and the account's organization paths (`o-.../r-.../ou-.../`).
OrgFacts = tuple[str, str | Sequence[str]]


class OrganizationPolicySource(Protocol):
    def scp_levels(self, account_id: str) -> ScpLevels | None: ...

    def org_facts(self, account_id: str) -> OrgFacts | None: ...


class NoOrganization:
    """No account is in an organization: no SCPs, no organization keys."""

    def scp_levels(self, account_id: str) -> ScpLevels | None:
        return None

    def org_facts(self, account_id: str) -> OrgFacts | None:
        return None


def organization_keys(facts: OrgFacts | None) -> dict[str, str | tuple[str, ...]]:
    """`aws:PrincipalOrgID` and `aws:PrincipalOrgPaths` (multivalued), present only when
    the principal's account is in an organization, as AWS's global condition keys page
    says of both."""
    if facts is None:
        return {}
    org_id, paths = facts
    values = (paths,) if isinstance(paths, str) else tuple(paths)
    return {"aws:PrincipalOrgID": org_id, "aws:PrincipalOrgPaths": values}
