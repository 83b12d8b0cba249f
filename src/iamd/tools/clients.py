"""botocore clients for the commands that talk to an IAM endpoint (iamd or AWS).

They use the standard credential chain of a named profile and its configuration
(`region`, `endpoint_url`), so the same command works against iamd and against AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session


@dataclass(frozen=True, slots=True)
class Endpoint:
    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    credentials_file: Path | None = None

    def session(self) -> botocore.session.Session:
        session = botocore.session.Session(profile=self.profile)
        if self.credentials_file is not None:
            session.set_config_variable("credentials_file", str(self.credentials_file))
        return session

    def client(
        self,
        service: str,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
    ) -> Any:
        """A client with the profile's credentials, or with the key given."""
        session = self.session()
        region = self.region or session.get_config_variable("region") or "us-east-1"
        return session.create_client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
        )
