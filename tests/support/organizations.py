"""A member account of the test server's organization, made as a client makes one."""

from __future__ import annotations

import time
from typing import Any


def new_account(organizations: Any, email: str = "team-b@example.com", name: str = "team-b") -> str:
    """CreateAccount is asynchronous, as in AWS: poll its status until it succeeds.
    The caller's organization must exist already."""
    request = organizations.create_account(Email=email, AccountName=name)
    request_id = request["CreateAccountStatus"]["Id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = organizations.describe_create_account_status(CreateAccountRequestId=request_id)[
            "CreateAccountStatus"
        ]
        if status["State"] == "SUCCEEDED":
            return str(status["AccountId"])
        assert status["State"] == "IN_PROGRESS", status
        time.sleep(0.2)
    raise AssertionError("CreateAccount did not finish in 30 s")
