"""IAM console password operations: login profiles, ChangePassword, the password policy."""

from __future__ import annotations

from typing import Any

from iamd.errors import NoSuchEntity
from iamd.model.password_policy import PasswordPolicy
from iamd.operations.iam.shapes import about_root_user
from iamd.operations.registry import (
    CallContext,
    Operation,
    Params,
    Result,
    any_resource,
    user_resource,
)
from iamd.services.passwords import LoginProfile
from iamd.services.users import target_user_name


def _profile_shape(profile: LoginProfile) -> dict[str, Any]:
    return {
        "UserName": profile.user_name,
        "CreateDate": profile.create_date,
        "PasswordResetRequired": profile.password_reset_required,
    }


def create_login_profile(ctx: CallContext, p: Params) -> Result:
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    profile = ctx.services.passwords.create(
        user_name, p.get("Password"), bool(p.get("PasswordResetRequired", False))
    )
    return {"LoginProfile": _profile_shape(profile)}


def get_login_profile(ctx: CallContext, p: Params) -> Result:
    if about_root_user(ctx.caller, p):
        # iamd's member root users have no password (console sign-in is for IAM users).
        raise NoSuchEntity.login_profile("root")
    user_name = target_user_name(ctx.caller, p.get("UserName"))
    return {"LoginProfile": _profile_shape(ctx.services.passwords.get(user_name))}


def update_login_profile(ctx: CallContext, p: Params) -> Result:
    ctx.services.passwords.update(p["UserName"], p.get("Password"), p.get("PasswordResetRequired"))
    return None


def delete_login_profile(ctx: CallContext, p: Params) -> Result:
    if about_root_user(ctx.caller, p):
        # The root user holds none in iamd: what it names cannot be found.
        raise NoSuchEntity.login_profile("root")
    ctx.services.passwords.delete(target_user_name(ctx.caller, p.get("UserName")))
    return None


def change_password(ctx: CallContext, p: Params) -> Result:
    ctx.services.passwords.change_own(ctx.caller, p["OldPassword"], p["NewPassword"])
    return None


def get_account_password_policy(ctx: CallContext, _p: Params) -> Result:
    policy = ctx.services.passwords.get_policy()
    shape: dict[str, Any] = {
        "MinimumPasswordLength": policy.minimum_password_length,
        "RequireSymbols": policy.require_symbols,
        "RequireNumbers": policy.require_numbers,
        "RequireUppercaseCharacters": policy.require_uppercase_characters,
        "RequireLowercaseCharacters": policy.require_lowercase_characters,
        "AllowUsersToChangePassword": policy.allow_users_to_change_password,
        "ExpirePasswords": policy.expire_passwords,
    }
    # Fields never set are left out, as AWS leaves them out.
    if policy.max_password_age is not None:
        shape["MaxPasswordAge"] = policy.max_password_age
    if policy.password_reuse_prevention is not None:
        shape["PasswordReusePrevention"] = policy.password_reuse_prevention
    if policy.hard_expiry is not None:
        shape["HardExpiry"] = policy.hard_expiry
    return {"PasswordPolicy": shape}


def update_account_password_policy(ctx: CallContext, p: Params) -> Result:
    # Not a partial update: every omitted field goes back to its default (AWS's rule).
    ctx.services.passwords.update_policy(
        PasswordPolicy(
            minimum_password_length=int(p.get("MinimumPasswordLength", 6)),
            require_symbols=bool(p.get("RequireSymbols", False)),
            require_numbers=bool(p.get("RequireNumbers", False)),
            require_uppercase_characters=bool(p.get("RequireUppercaseCharacters", False)),
            require_lowercase_characters=bool(p.get("RequireLowercaseCharacters", False)),
            allow_users_to_change_password=bool(p.get("AllowUsersToChangePassword", False)),
            max_password_age=p.get("MaxPasswordAge"),
            password_reuse_prevention=p.get("PasswordReusePrevention"),
            hard_expiry=p.get("HardExpiry"),
        )
    )
    return None


def delete_account_password_policy(ctx: CallContext, _p: Params) -> Result:
    ctx.services.passwords.delete_policy()
    return None


OPERATIONS = (
    Operation("iam", "CreateLoginProfile", create_login_profile, user_resource),
    Operation("iam", "GetLoginProfile", get_login_profile, user_resource),
    Operation("iam", "UpdateLoginProfile", update_login_profile, user_resource),
    Operation("iam", "DeleteLoginProfile", delete_login_profile, user_resource),
    # The caller's own user: ChangePassword takes no UserName.
    Operation("iam", "ChangePassword", change_password, user_resource),
    Operation("iam", "GetAccountPasswordPolicy", get_account_password_policy, any_resource),
    Operation("iam", "UpdateAccountPasswordPolicy", update_account_password_policy, any_resource),
    Operation("iam", "DeleteAccountPasswordPolicy", delete_account_password_policy, any_resource),
)
