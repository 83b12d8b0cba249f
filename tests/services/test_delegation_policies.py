"""A delegation request's permission policy from its template, and its plain-language
summary (GetHumanReadableSummary): the rules docs/delegation.md states."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from iamd.errors import InvalidInput
from iamd.model.delegation import DelegationRequest, DelegationState, PolicyParameter
from iamd.services.delegation_notifications import DelegationNotifications
from iamd.services.delegation_requests import (
    DelegationRequestService,
    NewDelegationRequest,
    permission_policy,
    request_id_of_arn,
)
from iamd.services.policy_summary import access_level, summarize

TEMPLATE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": ["arn:aws:s3:::{{Bucket}}", "arn:aws:s3:::{{Bucket}}/{{Prefixes}}*"],
            }
        ],
    }
)
BUCKET = PolicyParameter("Bucket", ("logs",), "string")
PREFIXES = PolicyParameter("Prefixes", ("a/", "b/"), "stringList")


def test_string_parameters_fill_in_and_string_lists_make_one_string_per_value() -> None:
    policy = json.loads(permission_policy(TEMPLATE, [BUCKET, PREFIXES]))
    assert policy["Statement"][0]["Resource"] == [
        "arn:aws:s3:::logs",
        "arn:aws:s3:::logs/a/*",
        "arn:aws:s3:::logs/b/*",
    ]
    # Outside a list, a string list's strings make a list.
    single = json.dumps({"Statement": {"Resource": "arn:aws:s3:::{{Prefixes}}"}})
    assert json.loads(permission_policy(single, [PREFIXES]))["Statement"]["Resource"] == [
        "arn:aws:s3:::a/",
        "arn:aws:s3:::b/",
    ]


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ([PREFIXES], "needs a value for parameter Bucket"),
        ([BUCKET, PREFIXES, PolicyParameter("Extra", ("x",), "string")], "Extra is not in"),
        ([BUCKET, BUCKET, PREFIXES], "Duplicate policy parameter Bucket"),
        ([PolicyParameter("Bucket", ("a", "b"), "string"), PREFIXES], "exactly one value"),
        ([BUCKET, PolicyParameter("Prefixes", (), "stringList")], "has no values"),
    ],
)
def test_template_parameters_that_do_not_fit_are_refused(
    parameters: list[PolicyParameter], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        permission_policy(TEMPLATE, parameters)
    assert message in str(refused.value)


def test_a_string_with_two_string_lists_and_a_template_that_is_not_json_are_refused() -> None:
    two = json.dumps({"Resource": "{{A}}/{{B}}"})
    lists = [PolicyParameter("A", ("1",), "stringList"), PolicyParameter("B", ("2",), "stringList")]
    with pytest.raises(InvalidInput, match="one stringList"):
        permission_policy(two, lists)
    with pytest.raises(InvalidInput, match="not a JSON document"):
        permission_policy("{nope", [])


def test_only_delegation_request_arns_are_summarized() -> None:
    assert request_id_of_arn(
        "arn:aws:iam::123456789012:delegation-request/dr-0123456789abcdef"
    ) == ("dr-0123456789abcdef")
    for arn in ("arn:aws:iam::123456789012:user/bob", "arn:aws:iam::123:delegation-request/x"):
        with pytest.raises(InvalidInput):
            request_id_of_arn(arn)


NOW = datetime(2026, 1, 1, tzinfo=UTC)
REQUEST = DelegationRequest(
    request_id="dr-0123456789abcdef",
    requestor_account="210987654321",
    requestor_name="Partner Co",
    workflow_id="wf-1",
    description="d",
    request_message=None,
    policy_template_arn=None,
    parameters=(),
    permission_policy=None,
    redirect_url=None,
    notification_channel="arn:aws:sns:us-east-1:210987654321:t",
    session_duration=5400,
    only_send_by_owner=False,
    owner_account=None,
    owner_id=None,
    approver_id=None,
    state=DelegationState.UNASSIGNED,
    notes=None,
    rejection_reason=None,
    create_date=NOW,
    updated_time=NOW,
    expiration_time=NOW,
)


def test_the_summary_says_what_each_statement_allows_or_denies() -> None:
    policy = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": ["iam:TagRole", "iam:CreateRole", "iam:ListRoles"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestTag/team": "x"}},
                },
                {"Effect": "Deny", "NotAction": "s3:GetObject", "NotResource": "arn:aws:s3:::b"},
            ]
        }
    )
    text = summarize(replace(REQUEST, permission_policy=policy))
    assert text == (
        "Partner Co (account 210987654321) asks for temporary access to an account not "
        "chosen yet for 1.5 hours after the token is sent.\n"
        "The permissions it asks for:\n"
        "- Allows ec2 actions matching ec2:* on all resources.\n"
        "- Allows iam (list/tagging/write access: iam:CreateRole, iam:ListRoles, iam:TagRole) "
        "on all resources, only when conditions on aws:RequestTag/team hold.\n"
        "- Denies every action except s3 (read access: s3:GetObject) on every resource "
        "except arn:aws:s3:::b."
    )
    assert summarize(REQUEST).endswith(
        "Its permission policy has no statements: it grants nothing."
    )
    assert [access_level(a) for a in ("ListUsers", "GetUser", "TagUser", "PutUserPolicy")] == [
        "list",
        "read",
        "tagging",
        "write",
    ]


def test_every_request_expires_at_its_expiration_time() -> None:
    assert REQUEST.state_at(NOW) is DelegationState.EXPIRED
    later = replace(REQUEST, expiration_time=datetime(2026, 1, 2, tzinfo=UTC))
    assert later.state_at(NOW) is DelegationState.UNASSIGNED


def test_a_parameter_that_breaks_the_policy_is_refused_at_creation() -> None:
    class Clock:
        def now(self) -> datetime:
            return NOW + timedelta(seconds=1)

    class NoTransactions:
        account_id = "210987654321"

    service = DelegationRequestService(
        NoTransactions(),  # type: ignore[arg-type]
        Clock(),
        DelegationNotifications(None),
        lambda account: account,
    )
    template = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "{{A}}", "Resource": "*"}],
        }
    )
    with pytest.raises(InvalidInput, match="The permission policy is not valid"):
        service.create(
            NewDelegationRequest(
                owner_account=None,
                description="d",
                template_arn="arn:aws:iam::210987654321:policy/t",
                template_document=template,
                parameters=(PolicyParameter("A", ("not an action",), "string"),),
                request_message=None,
                workflow_id="wf-1",
                redirect_url=None,
                notification_channel="arn:aws:sns:us-east-1:210987654321:t",
                session_duration=900,
                only_send_by_owner=False,
            )
        )
