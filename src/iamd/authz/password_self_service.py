"""AllowUsersToChangePassword: the permission the account password policy grants.

AWS documents the policy field as giving every IAM user `iam:ChangePassword` on its own
user and `iam:GetAccountPasswordPolicy`, "at the account level", without attaching a
policy. iamd applies it after the policy engine: it turns an implicit deny of exactly
those two requests into an allow for an IAM user. An explicit Deny in the user's
policies still wins (iamd's reading: nothing in AWS's evaluation logic lets an allow
beat an explicit deny); root needs no grant and roles have no password.
"""

from __future__ import annotations

from collections.abc import Callable

from iamd.authz.authorizer import AccountGrant, AuthorizationRequest


def password_self_service(users_may_change_password: Callable[[str], bool]) -> AccountGrant:
    """The grant, reading the password policy's field of the caller's account through
    `users_may_change_password(account_id)` (the account's password service, which caches
    it) at each request it applies to."""

    def grant(request: AuthorizationRequest) -> bool:
        caller = request.credential.caller
        if caller.user is None:
            return False
        own_password = request.action == "iam:ChangePassword" and request.resource == caller.arn
        if not own_password and request.action != "iam:GetAccountPasswordPolicy":
            return False
        return users_may_change_password(caller.account_id)

    return grant
