"""Delegation requests across two accounts through a real server (boto3 and the AWS
CLI): a partner account (made with Organizations, as AWS makes accounts) asks the
bootstrap account for temporary access; the customer's identities associate, forward,
accept and send the token, which reaches only the partner's notification file, never
the trail or the logs. Every error, the listing's pages, authorization and expiry."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.auth
import pytest
from botocore.exceptions import ClientError
from tests.support.awscli import AwsCli
from tests.support.clock import ServerClock
from tests.support.organizations import new_account
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server

pytestmark = pytest.mark.slow

CUSTOMER = "123456789012"
TEMPLATE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:GetUser", "iam:ListUsers"],
                "Resource": "arn:aws:iam::{{Account}}:user/{{Users}}",
            },
            {
                "Effect": "Allow",
                "Action": "iam:GetRole",
                "Resource": "arn:aws:iam::{{Account}}:role/app",
            },
        ],
    }
)
PARAMETERS = [
    {"Name": "Users", "Values": ["alice", "bob"], "Type": "stringList"},
    {"Name": "Account", "Values": [CUSTOMER], "Type": "string"},
]


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


class Partner:
    """The partner's account: its administrator's session and its policy template."""

    def __init__(self, server: RunningServer) -> None:
        organizations = server.client("organizations")
        organizations.create_organization(FeatureSet="ALL")
        self.account = new_account(organizations, "partner@example.com", "Partner Co")
        session = server.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{self.account}:role/OrganizationAccountAccessRole",
            RoleSessionName="partner",
        )["Credentials"]
        setup = server.client(
            "iam",
            key_id=session["AccessKeyId"],
            secret=session["SecretAccessKey"],
            token=session["SessionToken"],
        )
        # A long-term key, which outlives the moved clocks of the expiry test.
        setup.create_user(UserName="integration")
        setup.attach_user_policy(
            UserName="integration", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )
        key = setup.create_access_key(UserName="integration")["AccessKey"]
        self.key = (key["AccessKeyId"], key["SecretAccessKey"])
        self.iam = server.client("iam", key_id=self.key[0], secret=self.key[1])
        self.template = self.iam.create_policy(
            PolicyName="ReadUsersTemplate", PolicyDocument=TEMPLATE
        )["Policy"]["Arn"]
        self.topic = f"arn:aws:sns:us-east-1:{self.account}:partner-updates"

    def create(self, workflow: str, **overrides: Any) -> str:
        params: dict[str, Any] = {
            "OwnerAccountId": CUSTOMER,
            "Description": "Read your users for the audit dashboard",
            "Permissions": {"PolicyTemplateArn": self.template, "Parameters": PARAMETERS},
            "RequestMessage": "Second try, with fewer permissions",
            "RequestorWorkflowId": workflow,
            "RedirectUrl": "https://partner.example.com/return",
            "NotificationChannel": self.topic,
            "SessionDuration": 3600,
            "OnlySendByOwner": True,
            **overrides,
        }
        return str(self.iam.create_delegation_request(**params)["DelegationRequestId"])


def user_client(server: RunningServer, iam: Any, name: str, *statements: dict[str, Any]) -> Any:
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    client = server.client("iam", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
    client.arn = arn
    return client


def allow(*actions: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource}


REQUESTS = f"arn:aws:iam::{CUSTOMER}:delegation-request/*"


@pytest.fixture
def trail_server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "data", extra_args=["--audit-trail"])
    yield running
    running.stop()


def notifications(server: RunningServer, partner: Partner) -> list[dict[str, Any]]:
    path = (
        server.data_dir / "delegation-notifications" / (partner.topic.replace(":", "_") + ".jsonl")
    )
    if not path.exists():
        return []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return [json.loads(line) for line in path.read_text().splitlines()]


def every_trail_record(server: RunningServer, *clients: Any) -> str:
    server_trail = [
        json.dumps(c.lookup_events(MaxResults=50)["Events"], default=str) for c in clients
    ]
    return "\n".join(server_trail)


def test_the_life_of_a_delegation_request_across_two_accounts(
    trail_server: RunningServer,
) -> None:
    server = trail_server
    admin = server.client("iam")
    partner = Partner(server)
    alice = user_client(
        server,
        admin,
        "alice",
        allow(
            "iam:AssociateDelegationRequest",
            "iam:SendDelegationToken",
            resource=REQUESTS,
        ),
    )
    boss = user_client(
        server,
        admin,
        "boss",
        allow(
            "iam:AcceptDelegationRequest",
            "iam:RejectDelegationRequest",
            "iam:GetDelegationRequest",
            resource=REQUESTS,
        ),
        allow("iam:GetUser", "iam:ListUsers", "iam:GetRole", "iam:ListDelegationRequests"),
    )
    mallory = user_client(server, admin, "mallory")

    request_id = partner.create("wf-0001")
    assert request_id.startswith("dr-")

    # Targeted to the customer but not yet associated: the partner and the customer's
    # identities see it; the customer's listing does not have it yet (no owner).
    seen = partner.iam.get_delegation_request(DelegationRequestId=request_id)["DelegationRequest"]
    assert seen["State"] == "UNASSIGNED"
    assert seen["OwnerAccountId"] == CUSTOMER
    assert seen["RequestorId"] == partner.account
    assert seen["RequestorName"] == "Partner Co"
    assert "OwnerId" not in seen
    policy = json.loads(seen["PermissionPolicy"])
    assert policy["Statement"][0]["Resource"] == [
        f"arn:aws:iam::{CUSTOMER}:user/alice",
        f"arn:aws:iam::{CUSTOMER}:user/bob",
    ]
    assert policy["Statement"][1]["Resource"] == f"arn:aws:iam::{CUSTOMER}:role/app"
    assert seen["Permissions"]["Parameters"][0]["Values"] == ["alice", "bob"]
    assert seen["ExpirationTime"] - seen["CreateDate"] == timedelta(days=1)
    assert (
        mallory.get_delegation_request(DelegationRequestId=request_id)["DelegationRequest"]["State"]
        == "UNASSIGNED"
    )
    assert request_id not in [
        r["DelegationRequestId"] for r in admin.list_delegation_requests()["DelegationRequests"]
    ]
    assert [
        r["DelegationRequestId"]
        for r in partner.iam.list_delegation_requests()["DelegationRequests"]
    ] == [request_id]

    # Only the customer's account can associate it; then alice owns it.
    with pytest.raises(ClientError) as wrong_account:
        partner.iam.associate_delegation_request(DelegationRequestId=request_id)
    assert code_of(wrong_account) == "NoSuchEntity"
    with pytest.raises(ClientError) as denied:
        mallory.associate_delegation_request(DelegationRequestId=request_id)
    assert code_of(denied) == "AccessDenied"
    assert denied.value.response["Error"]["Message"] == (
        f"User: {mallory.arn} is not authorized to perform: iam:AssociateDelegationRequest "
        f"on resource: arn:aws:iam::{CUSTOMER}:delegation-request/{request_id} because no "
        "identity-based policy allows the iam:AssociateDelegationRequest action"
    )
    alice.associate_delegation_request(DelegationRequestId=request_id)
    with pytest.raises(ClientError) as again:
        alice.associate_delegation_request(DelegationRequestId=request_id)
    assert code_of(again) == "NoSuchEntity"
    owned = alice.get_delegation_request(DelegationRequestId=request_id)["DelegationRequest"]
    assert owned["State"] == "ASSIGNED"
    assert owned["OwnerId"] == alice.arn
    # Owned now: mallory has no default permission to read it any more.
    with pytest.raises(ClientError) as hidden:
        mallory.get_delegation_request(DelegationRequestId=request_id)
    assert code_of(hidden) == "AccessDenied"
    assert [
        r["DelegationRequestId"]
        for r in boss.list_delegation_requests(OwnerId=alice.arn)["DelegationRequests"]
    ] == [request_id]

    # Alice cannot approve (no policy): she forwards it (the owner's default permission).
    with pytest.raises(ClientError) as cannot_accept:
        alice.accept_delegation_request(DelegationRequestId=request_id)
    assert code_of(cannot_accept) == "AccessDenied"
    with pytest.raises(ClientError) as not_yet:
        alice.send_delegation_token(DelegationRequestId=request_id)
    assert code_of(not_yet) == "InvalidInput"
    alice.update_delegation_request(DelegationRequestId=request_id, Notes="Please approve")
    with pytest.raises(ClientError) as not_owner_update:
        mallory.update_delegation_request(DelegationRequestId=request_id, Notes="x")
    assert code_of(not_owner_update) == "AccessDenied"
    forwarded = boss.get_delegation_request(
        DelegationRequestId=request_id, DelegationPermissionCheck=True
    )
    assert forwarded["DelegationRequest"]["State"] == "PENDING_APPROVAL"
    assert forwarded["DelegationRequest"]["Notes"] == "Please approve"
    # Boss's own policies cover every action asked for; alice's do not.
    assert forwarded["PermissionCheckStatus"] == "COMPLETE"
    assert forwarded["PermissionCheckResult"] == "ALLOWED"
    assert (
        alice.get_delegation_request(
            DelegationRequestId=request_id, DelegationPermissionCheck=True
        )["PermissionCheckResult"]
        == "DENIED"
    )

    boss.accept_delegation_request(DelegationRequestId=request_id)
    accepted = boss.get_delegation_request(DelegationRequestId=request_id)["DelegationRequest"]
    assert accepted["State"] == "ACCEPTED"
    assert accepted["ApproverId"] == boss.arn
    # Only the owner may send it (OnlySendByOwner), and only once.
    with pytest.raises(ClientError) as not_the_owner:
        user_client(
            server, admin, "carol", allow("iam:SendDelegationToken", resource=REQUESTS)
        ).send_delegation_token(DelegationRequestId=request_id)
    assert code_of(not_the_owner) == "AccessDenied"
    alice.send_delegation_token(DelegationRequestId=request_id)
    finalized = alice.get_delegation_request(DelegationRequestId=request_id)["DelegationRequest"]
    assert finalized["State"] == "FINALIZED"
    for late in (alice.send_delegation_token, boss.reject_delegation_request):
        with pytest.raises(ClientError) as terminal:
            late(DelegationRequestId=request_id)
        assert code_of(terminal) == "InvalidInput"
        assert "FINALIZED" in terminal.value.response["Error"]["Message"]

    # The partner's notifications: every change, the token only in the last.
    messages = notifications(server, partner)
    assert [m["State"] for m in messages] == [
        "ASSIGNED",
        "PENDING_APPROVAL",
        "ACCEPTED",
        "FINALIZED",
    ]
    assert all(m["DelegationRequestId"] == request_id for m in messages)
    assert all("ExchangeToken" not in m for m in messages[:-1])
    token = messages[-1]["ExchangeToken"]
    assert len(token) >= 64

    # The partner trades it in for a session of boss, who accepted, limited by the
    # request's permission policy: alice and bob, and nothing else.
    partner_sts = server.client("sts", key_id=partner.key[0], secret=partner.key[1])
    traded = partner_sts.get_delegated_access_token(TradeInToken=token)
    assert traded["AssumedPrincipal"] == (
        f"arn:aws:sts::{CUSTOMER}:federated-user/dr-{request_id[-20:]}"
    )
    assert traded["PackedPolicySize"] > 0
    delegated = traded["Credentials"]
    assert delegated["Expiration"] <= finalized["UpdatedTime"] + timedelta(hours=1)
    delegated_iam = server.client(
        "iam",
        key_id=delegated["AccessKeyId"],
        secret=delegated["SecretAccessKey"],
        token=delegated["SessionToken"],
    )
    assert delegated_iam.get_user(UserName="alice")["User"]["Arn"] == alice.arn
    for outside in (
        lambda: delegated_iam.get_user(UserName="carol"),
        delegated_iam.list_users,
        lambda: delegated_iam.create_user(UserName="intruder"),
    ):
        with pytest.raises(ClientError) as beyond:
            outside()
        assert code_of(beyond) == "AccessDenied"
    # Only the partner's account can trade it in; a made-up token is no token.
    for who, what in ((server.client("sts"), token), (partner_sts, "x" * 64)):
        with pytest.raises(ClientError) as not_theirs:
            who.get_delegated_access_token(TradeInToken=what)
        assert code_of(not_theirs) == "AccessDenied"

    # The token is nowhere else: not in either account's trail, nor the server's log.
    admin_trail = server.client("cloudtrail")
    partner_trail = server.client("cloudtrail", key_id=partner.key[0], secret=partner.key[1])
    deadline = time.monotonic() + 10
    while True:
        records = every_trail_record(server, admin_trail, partner_trail)
        done = "SendDelegationToken" in records and "GetDelegatedAccessToken" in records
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "SendDelegationToken" in records
    assert "CreateDelegationRequest" in records
    assert "GetDelegatedAccessToken" in records
    for secret in (token, delegated["SecretAccessKey"], delegated["SessionToken"]):
        assert secret not in records
    sent = [
        json.loads(e["CloudTrailEvent"])
        for e in admin_trail.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "SendDelegationToken"}
            ]
        )["Events"]
    ]
    assert sent[0]["readOnly"] is False
    assert sent[0]["requestParameters"] == {"delegationRequestId": request_id}
    got = [
        json.loads(e["CloudTrailEvent"])
        for e in admin_trail.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "GetDelegationRequest"}
            ]
        )["Events"]
    ]
    assert got
    assert all(g["readOnly"] is True for g in got)
    assert token not in server.log_text()
    # Nor in the database (its SHA-256 only) or any other file of the data directory.
    outbox = server.data_dir / "delegation-notifications"
    for path in server.data_dir.rglob("*"):
        if path.is_file() and outbox not in path.parents:
            assert token.encode() not in path.read_bytes(), path

    # The summary: the request and its permissions in plain language, English only.
    arn = f"arn:aws:iam::{CUSTOMER}:delegation-request/{request_id}"
    summary = alice.get_human_readable_summary(EntityArn=arn)
    assert summary["SummaryState"] == "AVAILABLE"
    assert summary["Locale"] == "en"
    assert summary["SummaryContent"] == (
        f"Partner Co (account {partner.account}) asks for temporary access to {CUSTOMER} for "
        "1 hour after the token is sent.\n"
        "The permissions it asks for:\n"
        f"- Allows iam (list/read access: iam:GetUser, iam:ListUsers) on "
        f"arn:aws:iam::{CUSTOMER}:user/alice, arn:aws:iam::{CUSTOMER}:user/bob.\n"
        f"- Allows iam (read access: iam:GetRole) on arn:aws:iam::{CUSTOMER}:role/app."
    )
    french = alice.get_human_readable_summary(EntityArn=arn, Locale="fr-FR")
    assert french["SummaryState"] == "NOT_SUPPORTED"
    assert french["SummaryContent"] == ""
    with pytest.raises(ClientError) as not_a_request:
        alice.get_human_readable_summary(EntityArn=f"arn:aws:iam::{CUSTOMER}:user/alice")
    assert code_of(not_a_request) == "InvalidInput"
    with pytest.raises(ClientError) as summary_denied:
        mallory.get_human_readable_summary(EntityArn=arn)
    assert code_of(summary_denied) == "AccessDenied"

    # The rejection path: rejected with a reason, then nothing else.
    second = partner.create("wf-0002", OnlySendByOwner=False)
    alice.associate_delegation_request(DelegationRequestId=second)
    boss.accept_delegation_request(DelegationRequestId=second)
    boss.reject_delegation_request(DelegationRequestId=second, Notes="Too broad")
    rejected = boss.get_delegation_request(DelegationRequestId=second)["DelegationRequest"]
    assert rejected["State"] == "REJECTED"
    assert rejected["RejectionReason"] == "Too broad"
    with pytest.raises(ClientError) as after_reject:
        boss.accept_delegation_request(DelegationRequestId=second)
    assert code_of(after_reject) == "InvalidInput"
    assert notifications(server, partner)[-1]["State"] == "REJECTED"


def test_create_errors_and_the_listing_pages(fresh_server: RunningServer) -> None:
    server = fresh_server
    admin = server.client("iam")
    partner = Partner(server)
    first = partner.create("wf-first")
    with pytest.raises(ClientError) as taken:
        partner.create("wf-first")
    assert code_of(taken) == "EntityAlreadyExists"
    bad: list[tuple[dict[str, Any], str, str]] = [
        ({"NotificationChannel": "not-an-arn"}, "InvalidInput", "SNS topic"),
        (
            {"NotificationChannel": f"arn:aws:sns:us-east-1:{CUSTOMER}:theirs"},
            "InvalidInput",
            "your own account",
        ),
        ({"OwnerAccountId": partner.account}, "InvalidInput", "its own account"),
        (
            {"Permissions": {"PolicyTemplateArn": f"arn:aws:iam::{partner.account}:policy/none"}},
            "InvalidInput",
            "PolicyTemplateArn",
        ),
        (
            {"Permissions": {"PolicyTemplateArn": partner.template, "Parameters": PARAMETERS[:1]}},
            "InvalidInput",
            "Account",
        ),
        (
            {
                "Permissions": {
                    "PolicyTemplateArn": partner.template,
                    "Parameters": [
                        *PARAMETERS,
                        {"Name": "Extra", "Values": ["x"], "Type": "string"},
                    ],
                }
            },
            "InvalidInput",
            "Extra",
        ),
        ({"SessionDuration": 43201}, "ValidationError", "sessionDuration"),
        ({"RedirectUrl": "ftp://partner.example.com"}, "ValidationError", "redirectUrl"),
    ]
    for n, (overrides, code, text) in enumerate(bad):
        with pytest.raises(ClientError) as refused:
            partner.create(f"wf-bad-{n}", **overrides)
        assert code_of(refused) == code, overrides
        assert text in refused.value.response["Error"]["Message"], refused.value.response

    for missing in ("ApproveMe-0000000000", f"dr-{'0' * 34}"):
        for call in (
            admin.get_delegation_request,
            admin.associate_delegation_request,
            admin.accept_delegation_request,
            admin.reject_delegation_request,
            admin.send_delegation_token,
            admin.update_delegation_request,
        ):
            with pytest.raises(ClientError) as unknown:
                call(DelegationRequestId=missing)
            assert code_of(unknown) == "NoSuchEntity"
            assert unknown.value.response["Error"]["Message"] == (
                f"The delegation request with id {missing} cannot be found."
            )

    # Pages: the partner's five requests, two at a time, in creation order.
    made = [first] + [partner.create(f"wf-page-{n}") for n in range(4)]
    seen: list[str] = []
    marker: dict[str, str] = {}
    pages = 0
    while True:
        page = partner.iam.list_delegation_requests(MaxItems=2, **marker)
        pages += 1
        seen += [r["DelegationRequestId"] for r in page["DelegationRequests"]]
        if not page["isTruncated"]:
            assert "Marker" not in page
            break
        marker = {"Marker": page["Marker"]}
    assert seen == made
    assert pages == 3
    with pytest.raises(ClientError) as bad_marker:
        partner.iam.list_delegation_requests(Marker="not-a-marker")
    assert code_of(bad_marker) == "InvalidInput"


def test_requests_expire_and_the_open_ones_are_limited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ServerClock(tmp_path / "clock")
    clock.set_offset(0)
    server = start_server(tmp_path / "data", test_clock_file=clock.path)

    def days_later(days: float) -> None:
        """The server and this process's request signing both `days` ahead."""
        clock.set_offset(days * 86_400)
        monkeypatch.setattr(
            botocore.auth,
            "get_current_datetime",
            lambda: datetime.now(UTC) + timedelta(days=days),
        )

    try:
        partner = Partner(server)
        admin = server.client("iam")
        # Targeted to no account: any account may associate it.
        anyones = partner.iam.create_delegation_request(
            Description="Anyone may take this",
            Permissions={"PolicyTemplateArn": partner.template, "Parameters": PARAMETERS},
            RequestorWorkflowId="wf-anyone",
            NotificationChannel=partner.topic,
            SessionDuration=900,
        )["DelegationRequestId"]
        stale = partner.create("wf-stale")
        # Any account but the partner's own.
        with pytest.raises(ClientError) as own:
            partner.iam.associate_delegation_request(DelegationRequestId=anyones)
        assert code_of(own) == "NoSuchEntity"
        admin.associate_delegation_request(DelegationRequestId=anyones)
        taken = admin.get_delegation_request(DelegationRequestId=anyones)["DelegationRequest"]
        assert taken["OwnerAccountId"] == CUSTOMER
        assert taken["State"] == "ASSIGNED"

        # At most 100 open requests per partner account.
        for n in range(98):
            partner.create(f"wf-quota-{n}")
        with pytest.raises(ClientError) as quota:
            partner.create("wf-quota-100")
        assert code_of(quota) == "LimitExceeded"
        assert quota.value.response["Error"]["Message"] == (
            "Cannot exceed quota for DelegationRequestsPerAccount: 100"
        )

        # A day later the unassigned ones have expired (and no longer count); the
        # assigned one has 6 days left.
        days_later(1.01)
        expired = admin.get_delegation_request(DelegationRequestId=stale)["DelegationRequest"]
        assert expired["State"] == "EXPIRED"
        with pytest.raises(ClientError) as too_late:
            admin.associate_delegation_request(DelegationRequestId=stale)
        assert code_of(too_late) == "InvalidInput"
        assert "EXPIRED" in too_late.value.response["Error"]["Message"]
        admin.accept_delegation_request(DelegationRequestId=anyones)
        # A token is good for SessionDuration (900 s here) after it was sent.
        timed = partner.create("wf-timed", SessionDuration=900)
        for step in (
            admin.associate_delegation_request,
            admin.accept_delegation_request,
            admin.send_delegation_token,
        ):
            step(DelegationRequestId=timed)
        token = notifications(server, partner)[-1]["ExchangeToken"]
        partner_sts = server.client("sts", key_id=partner.key[0], secret=partner.key[1])
        assert partner_sts.get_delegated_access_token(TradeInToken=token)["Credentials"]
        days_later(1.03)
        with pytest.raises(ClientError) as spent:
            partner_sts.get_delegated_access_token(TradeInToken=token)
        assert code_of(spent) == "ExpiredTradeInTokenException"
        # Accepted and never sent: it expires 7 days after its acceptance.
        days_later(8.1)
        with pytest.raises(ClientError) as accepted_too_long:
            admin.send_delegation_token(DelegationRequestId=anyones)
        assert code_of(accepted_too_long) == "InvalidInput"
        listed = admin.list_delegation_requests()["DelegationRequests"]
        assert [(r["DelegationRequestId"], r["State"]) for r in listed] == [
            (anyones, "EXPIRED"),
            # Finalized requests expire 7 days after the token was sent, too.
            (timed, "EXPIRED"),
        ]
    finally:
        server.stop()


def test_delegation_requests_with_the_aws_cli(fresh_server: RunningServer, tmp_path: Path) -> None:
    partner = Partner(fresh_server)
    partner_cli = AwsCli(fresh_server, partner.key[0], partner.key[1], tmp_path)
    customer_cli = AwsCli(fresh_server, ADMIN_KEY_ID, ADMIN_SECRET, tmp_path)
    created = partner_cli.run(
        "iam",
        "create-delegation-request",
        "--owner-account-id",
        CUSTOMER,
        "--description",
        "Audit dashboard",
        "--permissions",
        json.dumps({"PolicyTemplateArn": partner.template, "Parameters": PARAMETERS}),
        "--requestor-workflow-id",
        "cli-workflow-1",
        "--notification-channel",
        partner.topic,
        "--session-duration",
        "7200",
    ).json()
    request_id = created["DelegationRequestId"]
    for step in ("associate-delegation-request", "accept-delegation-request"):
        customer_cli.run("iam", step, "--delegation-request-id", request_id)
    customer_cli.run("iam", "send-delegation-token", "--delegation-request-id", request_id)
    listed = customer_cli.run("iam", "list-delegation-requests").json()
    assert [(r["DelegationRequestId"], r["State"]) for r in listed["DelegationRequests"]] == [
        (request_id, "FINALIZED")
    ]
    summary = customer_cli.run(
        "iam",
        "get-human-readable-summary",
        "--entity-arn",
        f"arn:aws:iam::{CUSTOMER}:delegation-request/{request_id}",
    ).json()
    assert summary["SummaryState"] == "AVAILABLE"
    assert "for 2 hours" in summary["SummaryContent"]
    refused = customer_cli.run(
        "iam", "reject-delegation-request", "--delegation-request-id", request_id, check=False
    )
    assert refused.returncode != 0
    assert "InvalidInput" in refused.stderr
    token = notifications(fresh_server, partner)[-1]["ExchangeToken"]
    assert token not in fresh_server.log_text()


def test_a_delegation_request_on_postgresql(fresh_postgres_url: str, tmp_path: Path) -> None:
    server = start_server(tmp_path / "pg", database_url=fresh_postgres_url)
    try:
        partner = Partner(server)
        admin = server.client("iam")
        request_id = partner.create("wf-postgres", OnlySendByOwner=False)
        with pytest.raises(ClientError) as taken:
            partner.create("wf-postgres")
        assert code_of(taken) == "EntityAlreadyExists"
        for step in (
            admin.associate_delegation_request,
            admin.accept_delegation_request,
            admin.send_delegation_token,
        ):
            step(DelegationRequestId=request_id)
        token = notifications(server, partner)[-1]["ExchangeToken"]
        partner_sts = server.client("sts", key_id=partner.key[0], secret=partner.key[1])
        traded = partner_sts.get_delegated_access_token(TradeInToken=token)
        assert traded["AssumedPrincipal"].startswith(f"arn:aws:sts::{CUSTOMER}:federated-user/")
        listed = admin.list_delegation_requests(MaxItems=1)
        assert [r["State"] for r in listed["DelegationRequests"]] == ["FINALIZED"]
        assert listed["isTruncated"] is False
    finally:
        server.stop()
