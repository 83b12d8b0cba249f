"""Encoded authorization failure messages and sts:DecodeAuthorizationMessage through
boto3: the opt-in header, the DecodedMessage shape, who may decode, tampering."""

from __future__ import annotations

import json
import os
from typing import Any

from tests.server.iam_helpers import ACCOUNT, error_of
from tests.server.test_sts_sessions import user_with_key
from tests.support.servers import RunningServer

MARK = " Encoded authorization failure message: "


def asking_for_encoded_messages(client: Any) -> Any:
    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Iamd-Authorization-Message"] = "encoded"

    client.meta.events.register("before-sign.*.*", add_header)
    return client


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_an_encoded_refusal_is_decoded_for_a_principal_allowed_to(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-u"
    key_id, secret = user_with_key(iam, name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=policy(
            {"Sid": "NoUsers", "Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"},
            {"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"},
        ),
    )
    user_iam = server.client("iam", key_id, secret)
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    plain = error_of(user_iam.create_user, UserName=f"{unique}-x")
    assert plain[2] == (
        f"User: {user_arn} is not authorized to perform: iam:CreateUser on resource: "
        f"arn:aws:iam::{ACCOUNT}:user/{unique}-x with an explicit deny in an "
        "identity-based policy"
    )
    asking = asking_for_encoded_messages(server.client("iam", key_id, secret))
    status, code, message = error_of(asking.create_user, UserName=f"{unique}-x")
    assert (status, code) == (403, "AccessDenied")
    assert message.startswith(plain[2] + MARK)
    encoded = message.split(MARK, 1)[1]
    assert "NoUsers" not in encoded

    sts = server.client("sts", key_id, secret)
    decoded = json.loads(sts.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    user = iam.get_user(UserName=name)["User"]
    assert decoded["allowed"] is False
    assert decoded["explicitDeny"] is True
    assert [s["statementId"] for s in decoded["matchedStatements"]["items"]] == ["NoUsers"]
    assert decoded["failures"] == {"items": []}
    context = decoded["context"]
    assert context["principal"] == {"id": user["UserId"], "name": name, "arn": user_arn}
    assert context["action"] == "iam:CreateUser"
    assert context["resource"] == f"arn:aws:iam::{ACCOUNT}:user/{unique}-x"
    conditions = {c["key"]: c["values"]["items"] for c in context["conditions"]["items"]}
    assert conditions["aws:username"] == [{"value": name}]
    assert conditions["aws:SecureTransport"] == [{"value": "false"}]

    # An implicit deny matched no statement.
    status, code, message = error_of(asking.list_roles)
    implicit = json.loads(
        sts.decode_authorization_message(EncodedMessage=message.split(MARK, 1)[1])["DecodedMessage"]
    )
    assert (implicit["explicitDeny"], implicit["matchedStatements"]) == (False, {"items": []})
    assert implicit["context"]["action"] == "iam:ListRoles"

    # A changed character, a truncated or a made-up message does not open.
    flipped = encoded[:-5] + ("A" if encoded[-5] != "A" else "B") + encoded[-4:]
    for bad in (flipped, encoded[:40], "not a message", "A" * 10_240):
        status, code, _ = error_of(sts.decode_authorization_message, EncodedMessage=bad)
        assert (status, code) == (400, "InvalidAuthorizationMessageException"), bad

    # Reading it needs sts:DecodeAuthorizationMessage.
    other_id, other_secret = user_with_key(iam, f"{unique}-other")
    other = server.client("sts", other_id, other_secret)
    status, code, message = error_of(other.decode_authorization_message, EncodedMessage=encoded)
    assert (status, code) == (403, "AccessDenied")
    assert "sts:DecodeAuthorizationMessage" in message


def test_a_context_too_large_to_decode_is_left_out(
    server: RunningServer, iam: Any, unique: str
) -> None:
    name = f"{unique}-tagged"
    key_id, secret = user_with_key(iam, name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=policy(
            {"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}
        ),
    )
    # Incompressible principal tags: the whole context would exceed the 10240 characters
    # DecodeAuthorizationMessage accepts.
    tags = [
        {"Key": f"k{i:02}-{os.urandom(40).hex()}", "Value": os.urandom(120).hex()}
        for i in range(50)
    ]
    iam.tag_user(UserName=name, Tags=tags)
    asking = asking_for_encoded_messages(server.client("iam", key_id, secret))
    encoded = error_of(asking.list_roles)[2].split(MARK, 1)[1]
    assert len(encoded) <= 10_240
    sts = server.client("sts", key_id, secret)
    decoded = json.loads(sts.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["context"]["action"] == "iam:ListRoles"
    assert decoded["context"]["conditions"] == {"items": []}
