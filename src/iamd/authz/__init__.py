"""The authorization step every request passes before its operation runs.

`Authorizer.authorize(request)` answers "may this principal perform this action on this
resource, in this context?" by returning or raising AccessDenied. The request pipeline
calls it for every operation except the few AWS never denies (GetCallerIdentity).
"""

from iamd.authz.authorizer import (
    AdministratorOnlyAuthorizer,
    AuthorizationRequest,
    Authorizer,
    access_denied,
)

__all__ = [
    "AdministratorOnlyAuthorizer",
    "AuthorizationRequest",
    "Authorizer",
    "access_denied",
]
