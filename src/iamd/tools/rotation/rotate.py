"""The guide's access key rotation as one command that cannot lose the working key.

Order matters: the new key is created and written into the credentials file, then proven
to work (STS GetCallerIdentity answers with the same user, and the optional verify
command succeeds with the profile as applications would use it), and only then is the
old key set Inactive. Any failure before that point puts the old key back into the file
and deletes the new one, so the profile keeps working. The old key is deleted once the
grace period has passed (the next run finishes it) or at once with `--finish`; until then
`--rollback` brings it back.

It talks to whatever IAM endpoint the profile's configuration names (iamd or AWS), with
botocore and the standard credential chain.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from iamd.tools.clients import Endpoint
from iamd.tools.rotation.credentials_file import (
    CredentialsFileError,
    StaticKeys,
    read_profile_keys,
    write_profile_keys,
)
from iamd.tools.rotation.state import PendingRotation, RotationState


class RotationError(Exception):
    """A step failed or a precondition does not hold; the message says what to do."""


class RotationPending(RotationError):
    """An earlier rotation of this profile still waits for its grace period."""


@dataclass(frozen=True, slots=True)
class RotationOptions:
    profile: str
    credentials_path: Path
    endpoint_url: str | None = None
    region: str | None = None
    replace: str | None = None
    grace: timedelta = timedelta(days=7)
    dry_run: bool = False
    verify_command: str | None = None
    verify_timeout: float = 30.0
    mfa_serial: str | None = None
    token_code: str | None = None


Printer = Callable[[str], None]


class KeyRotation:
    def __init__(
        self,
        options: RotationOptions,
        say: Printer,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._options = options
        self._say = say
        self._now = now
        self._state = RotationState(options.credentials_path)
        self._mfa_iam: Any = None
        self._endpoint = Endpoint(
            options.profile, options.endpoint_url, options.region, options.credentials_path
        )

    # -- the three commands -------------------------------------------------------------

    def rotate(self) -> None:
        options = self._options
        pending = self._state.get(options.profile)
        if pending is not None:
            self._continue_pending(pending)
            return
        old = read_profile_keys(options.credentials_path, options.profile)
        self._check_chain_uses(old)
        user_name = self._user_name(old)
        self._say(
            f"profile [{options.profile}]: access key {old.access_key_id} of user {user_name}"
        )
        self._make_room(old, user_name)
        if options.dry_run:
            self._say_plan(old, user_name)
            return

        iam = self._iam(old)
        created = self._call(
            "create the new access key", lambda: iam.create_access_key(UserName=user_name)
        )["AccessKey"]
        new = StaticKeys(created["AccessKeyId"], created["SecretAccessKey"])
        self._say(f"created access key {new.access_key_id}")
        pending = PendingRotation(
            profile=options.profile,
            user_name=user_name,
            old_access_key_id=old.access_key_id,
            old_secret_access_key=old.secret_access_key,
            new_access_key_id=new.access_key_id,
            delete_after=self._now() + options.grace,
        )
        self._state.put(pending)
        try:
            write_profile_keys(options.credentials_path, options.profile, new)
        except (OSError, CredentialsFileError) as error:
            # The file still holds the old key: take the new one back and say why.
            self._discard_new_key(old, new, user_name)
            raise RotationError(f"could not write {options.credentials_path}: {error}") from None
        self._say(
            f"wrote {new.access_key_id} into [{options.profile}] of {options.credentials_path}"
        )
        try:
            self._verify(new, user_name)
        except RotationError:
            self._undo_new_key(old, new, user_name)
            raise
        self._call(
            f"set {old.access_key_id} Inactive",
            lambda: self._iam(new).update_access_key(
                UserName=user_name, AccessKeyId=old.access_key_id, Status="Inactive"
            ),
        )
        self._say(f"set old access key {old.access_key_id} Inactive")
        if options.grace <= timedelta(0):
            self._delete_old(pending, new)
        else:
            self._say(
                f"old key {old.access_key_id} will be deleted by the first run after "
                f"{pending.delete_after.isoformat(timespec='seconds')} "
                f"(or now with --finish; --rollback brings it back until then)"
            )

    def finish(self) -> None:
        pending = self._require_pending()
        if self._options.dry_run:
            self._say(f"would delete old access key {pending.old_access_key_id}")
            return
        new = read_profile_keys(self._options.credentials_path, self._options.profile)
        self._delete_old(pending, new)

    def rollback(self) -> None:
        pending = self._require_pending()
        options = self._options
        old = StaticKeys(pending.old_access_key_id, pending.old_secret_access_key)
        new = read_profile_keys(options.credentials_path, options.profile)
        if new.access_key_id != pending.new_access_key_id:
            raise RotationError(
                f"[{options.profile}] holds {new.access_key_id}, not the rotated key "
                f"{pending.new_access_key_id}; refusing to roll back over it"
            )
        if options.dry_run:
            self._say(
                f"would reactivate {old.access_key_id}, write it back into "
                f"[{options.profile}] and delete {new.access_key_id}"
            )
            return
        self._call(
            f"reactivate {old.access_key_id}",
            lambda: self._iam(new).update_access_key(
                UserName=pending.user_name, AccessKeyId=old.access_key_id, Status="Active"
            ),
        )
        self._say(f"reactivated old access key {old.access_key_id}")
        self._undo_new_key(old, new, pending.user_name)

    # -- steps --------------------------------------------------------------------------

    def _continue_pending(self, pending: PendingRotation) -> None:
        when = pending.delete_after.isoformat(timespec="seconds")
        if self._now() < pending.delete_after:
            raise RotationPending(
                f"a rotation of [{pending.profile}] is pending: old key "
                f"{pending.old_access_key_id} is Inactive until {when}; run again after "
                "that, or use --finish to delete it now or --rollback to bring it back"
            )
        self._say(f"grace period of old key {pending.old_access_key_id} ended at {when}")
        if self._options.dry_run:
            self._say(f"would delete old access key {pending.old_access_key_id}")
            return
        new = read_profile_keys(self._options.credentials_path, self._options.profile)
        self._delete_old(pending, new)

    def _check_chain_uses(self, keys: StaticKeys) -> None:
        credentials = self._endpoint.session().get_credentials()
        chain_key = credentials.access_key if credentials is not None else None
        if chain_key != keys.access_key_id:
            raise RotationError(
                f"the credential chain for profile [{self._options.profile}] does not use the "
                f"key in {self._options.credentials_path} (environment variables such as "
                "AWS_ACCESS_KEY_ID take precedence); unset them and run again"
            )

    def _user_name(self, keys: StaticKeys) -> str:
        identity = self._call(
            "identify the caller", lambda: self._client("sts", keys).get_caller_identity()
        )
        arn = str(identity["Arn"])
        if ":user/" not in arn:
            raise RotationError(f"{arn} is not an IAM user; only user access keys rotate")
        return arn.rsplit("/", 1)[1]

    def _make_room(self, old: StaticKeys, user_name: str) -> None:
        iam = self._iam(old)
        listed = self._call(
            "list the user's access keys", lambda: iam.list_access_keys(UserName=user_name)
        )
        others = [
            key for key in listed["AccessKeyMetadata"] if key["AccessKeyId"] != old.access_key_id
        ]
        if not others:
            return
        replace = self._options.replace
        described = ", ".join(f"{key['AccessKeyId']} ({key['Status']})" for key in others)
        if replace is None:
            raise RotationError(
                f"user {user_name} already has two access keys; the other is {described}. "
                "Say which one the new key replaces with --replace KEY_ID (it is deleted first)"
            )
        if replace not in {key["AccessKeyId"] for key in others}:
            raise RotationError(
                f"--replace {replace} is not the user's other access key ({described})"
            )
        if self._options.dry_run:
            self._say(f"would delete access key {replace} to make room")
            return
        self._call(
            f"delete {replace}",
            lambda: iam.delete_access_key(UserName=user_name, AccessKeyId=replace),
        )
        self._say(f"deleted access key {replace} to make room (--replace)")

    def _say_plan(self, old: StaticKeys, user_name: str) -> None:
        grace = self._options.grace
        self._say(f"would create a new access key for {user_name}")
        self._say(
            f"would write it into [{self._options.profile}] of {self._options.credentials_path}"
        )
        self._say("would verify it with sts get-caller-identity")
        if self._options.verify_command:
            self._say(f"would run the verify command: {self._options.verify_command}")
        self._say(f"would set {old.access_key_id} Inactive")
        if grace <= timedelta(0):
            self._say(f"would delete {old.access_key_id}")
        else:
            self._say(f"would delete {old.access_key_id} after a grace period of {grace}")

    def _verify(self, new: StaticKeys, user_name: str) -> None:
        # New keys can take seconds to be usable on AWS (eventual consistency).
        deadline = time.monotonic() + self._options.verify_timeout
        while True:
            try:
                identity = self._client("sts", new).get_caller_identity()
                break
            except (ClientError, BotoCoreError) as error:
                if time.monotonic() >= deadline:
                    raise RotationError(f"the new key does not work: {error}") from None
                time.sleep(1.0)
        if not str(identity["Arn"]).endswith(f"/{user_name}"):
            raise RotationError(f"the new key authenticates as {identity['Arn']}, not {user_name}")
        self._say(f"verified: the new key authenticates as {identity['Arn']}")
        command = self._options.verify_command
        if command:
            environment = _profile_environment(self._options)
            completed = subprocess.run(command, shell=True, env=environment, check=False)  # noqa: S602 - the user's own command line
            if completed.returncode != 0:
                raise RotationError(f"the verify command exited with status {completed.returncode}")
            self._say("verified: the verify command succeeded with the new key")

    def _undo_new_key(self, old: StaticKeys, new: StaticKeys, user_name: str) -> None:
        write_profile_keys(self._options.credentials_path, self._options.profile, old)
        self._say(f"restored {old.access_key_id} in [{self._options.profile}]")
        self._discard_new_key(old, new, user_name)

    def _discard_new_key(self, old: StaticKeys, new: StaticKeys, user_name: str) -> None:
        self._call(
            f"delete {new.access_key_id}",
            lambda: self._iam(old).delete_access_key(
                UserName=user_name, AccessKeyId=new.access_key_id
            ),
        )
        self._say(f"deleted new access key {new.access_key_id}")
        self._state.remove(self._options.profile)

    def _delete_old(self, pending: PendingRotation, new: StaticKeys) -> None:
        self._call(
            f"delete {pending.old_access_key_id}",
            lambda: self._iam(new).delete_access_key(
                UserName=pending.user_name, AccessKeyId=pending.old_access_key_id
            ),
        )
        self._state.remove(pending.profile)
        self._say(f"deleted old access key {pending.old_access_key_id}; rotation complete")

    def _require_pending(self) -> PendingRotation:
        pending = self._state.get(self._options.profile)
        if pending is None:
            raise RotationError(f"no rotation of [{self._options.profile}] is pending")
        return pending

    # -- plumbing -----------------------------------------------------------------------

    def _client(self, service: str, keys: StaticKeys) -> Any:
        return self._endpoint.client(service, keys.access_key_id, keys.secret_access_key)

    def _iam(self, keys: StaticKeys) -> Any:
        """The client that manages keys: with `keys`, or with one MFA session for the run.

        Policies such as the guide's require MFA to create or delete keys; the session is
        taken once, from the first key asked for (the old key when rotating), because a
        one-time code works once. It outlives the deactivation of that key.
        """
        options = self._options
        if options.mfa_serial is None or options.token_code is None:
            return self._client("iam", keys)
        if self._mfa_iam is None:
            session = self._call(
                "get an MFA session (sts get-session-token)",
                lambda: self._client("sts", keys).get_session_token(
                    SerialNumber=options.mfa_serial, TokenCode=options.token_code
                ),
            )["Credentials"]
            self._mfa_iam = self._endpoint.client(
                "iam",
                session["AccessKeyId"],
                session["SecretAccessKey"],
                session["SessionToken"],
            )
            self._say(f"MFA session from {keys.access_key_id} with {options.mfa_serial}")
        return self._mfa_iam

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except (ClientError, BotoCoreError) as error:
            raise RotationError(f"could not {what}: {error}") from None


def _profile_environment(options: RotationOptions) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    }
    environment["AWS_PROFILE"] = options.profile
    environment["AWS_SHARED_CREDENTIALS_FILE"] = str(options.credentials_path)
    if options.endpoint_url:
        environment["AWS_ENDPOINT_URL"] = options.endpoint_url
    return environment
