"""The authorization step every request passes before its operation runs.

`Authorizer.authorize(request)` answers "may this principal perform this action on this
resource, in this context?" with the allowing decision, or raises AccessDenied. The
request pipeline calls it for every operation except the few AWS never denies
(GetCallerIdentity).
"""

from iamd.authz.authorizer import (
    AuthenticatedPrincipal,
    AuthorizationRequest,
    Authorizer,
    PolicyAuthorizer,
    access_denied,
    request_context,
)

__all__ = [
    "AuthenticatedPrincipal",
    "AuthorizationRequest",
    "Authorizer",
    "PolicyAuthorizer",
    "access_denied",
    "request_context",
]
