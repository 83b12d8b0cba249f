"""Input validation from the model, with AWS's exact ``ValidationError`` wording.

botocore only checks required members, types and minimums client-side, so these tests
send raw forms, as a hand-written or hostile client would.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import regex

from iamd.errors import AwsError, InvalidAction, MissingAction, ValidationError
from iamd.protocol import QueryCodec
from iamd.protocol.scalars import parse_timestamp
from iamd.protocol.service_model import load_service_model
from iamd.protocol.validation import _javaize, compile_pattern
from tests.protocol.values import PATTERN_SAMPLES

IAM = {"Version": "2010-05-08"}
STS = {"Version": "2011-06-15"}


def _message(codec: QueryCodec, form: dict[str, str]) -> str:
    with pytest.raises(ValidationError) as caught:
        codec.parse(form)
    assert caught.value.code == "ValidationError"
    assert caught.value.status == 400
    return caught.value.message


def test_pattern_violation_message_is_exact(iam_codec: QueryCodec) -> None:
    message = _message(iam_codec, {**IAM, "Action": "GetUser", "UserName": "bad name"})
    assert message == (
        "1 validation error detected: Value 'bad name' at 'userName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )


def test_missing_required_member(iam_codec: QueryCodec) -> None:
    assert _message(iam_codec, {**IAM, "Action": "CreateUser"}) == (
        "1 validation error detected: Value null at 'userName' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_several_problems_in_one_message(iam_codec: QueryCodec) -> None:
    message = _message(iam_codec, {**IAM, "Action": "CreateUser", "UserName": ""})
    assert message == (
        "2 validation errors detected: "
        "Value '' at 'userName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        "Value '' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )


def test_max_length_is_enforced_server_side(iam_codec: QueryCodec) -> None:
    name = "a" * 65
    assert _message(iam_codec, {**IAM, "Action": "CreateUser", "UserName": name}) == (
        f"1 validation error detected: Value '{name}' at 'userName' failed to satisfy "
        "constraint: Member must have length less than or equal to 64"
    )
    # Lengths count characters, not bytes.
    assert iam_codec.parse({**IAM, "Action": "TagUser", "UserName": "bob", **_tag(1, "é" * 128)})


def _tag(index: int, key: str, value: str | None = "v") -> dict[str, str]:
    form = {f"Tags.member.{index}.Key": key}
    if value is not None:
        form[f"Tags.member.{index}.Value"] = value
    return form


def test_integer_range_and_parse(iam_codec: QueryCodec) -> None:
    base = {**IAM, "Action": "ListUsers"}
    assert _message(iam_codec, {**base, "MaxItems": "0"}) == (
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    assert _message(iam_codec, {**base, "MaxItems": "1001"}).endswith(
        "Member must have value less than or equal to 1000"
    )
    for bad in ("abc", "1.5", " 7", "1_0", "٣", "9" * 40):
        message = _message(iam_codec, {**base, "MaxItems": bad})
        assert message.startswith(f"1 validation error detected: Value '{bad}' at 'maxItems'")
    assert iam_codec.parse({**base, "MaxItems": "1000"}) == ("ListUsers", {"MaxItems": 1000})


def test_enum(iam_codec: QueryCodec) -> None:
    assert _message(iam_codec, {**IAM, "Action": "ListPolicies", "Scope": "Mine"}) == (
        "1 validation error detected: Value 'Mine' at 'scope' failed to satisfy constraint: "
        "Member must satisfy enum value set: [All, AWS, Local]"
    )
    assert iam_codec.parse({**IAM, "Action": "ListPolicies", "Scope": "Local"})[1] == {
        "Scope": "Local"
    }


def test_booleans(iam_codec: QueryCodec) -> None:
    base = {**IAM, "Action": "ListPolicies"}
    assert iam_codec.parse({**base, "OnlyAttached": "TRUE"})[1] == {"OnlyAttached": True}
    assert iam_codec.parse({**base, "OnlyAttached": "false"})[1] == {"OnlyAttached": False}
    message = _message(iam_codec, {**base, "OnlyAttached": "yes"})
    assert message.startswith("1 validation error detected: Value 'yes' at 'onlyAttached'")


def test_list_length(iam_codec: QueryCodec) -> None:
    form = {**IAM, "Action": "CreateUser", "UserName": "bob"}
    for index in range(1, 52):
        form.update(_tag(index, f"k{index}"))
    message = _message(iam_codec, form)
    assert message.startswith("1 validation error detected: Value '[{Key=k1, Value=v}, ")
    assert message.endswith(
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    )


def test_nested_required_member_in_list_of_structures(iam_codec: QueryCodec) -> None:
    form = {**IAM, "Action": "CreateUser", "UserName": "bob", "Tags.member.1.Value": "v"}
    assert _message(iam_codec, form) == (
        "1 validation error detected: Value null at 'tags.1.member.key' failed to satisfy "
        "constraint: Member must not be null"
    )
    form = {**form, **_tag(2, "bad\x00key")}
    assert _message(iam_codec, form).startswith("2 validation errors detected: ")
    assert "at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy" in (
        _message(iam_codec, form)
    )


def test_sensitive_values_are_masked(iam_codec: QueryCodec, sts_codec: QueryCodec) -> None:
    secret = "\x01hunter2" + "x" * 200
    message = _message(
        iam_codec,
        {**IAM, "Action": "ChangePassword", "OldPassword": secret, "NewPassword": ""},
    )
    assert "hunter2" not in message
    assert message == (
        "4 validation errors detected: "
        "Value '***' at 'oldPassword' failed to satisfy constraint: "
        "Member must have length less than or equal to 128; "
        "Value '***' at 'oldPassword' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+; "
        "Value '***' at 'newPassword' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        "Value '***' at 'newPassword' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
    )
    token = "x"  # webIdentityTokenType is sensitive, min length 4
    message = _message(
        sts_codec,
        {
            **STS,
            "Action": "AssumeRoleWithWebIdentity",
            "RoleArn": "arn:aws:iam::123456789012:role/web",
            "RoleSessionName": "s1",
            "WebIdentityToken": token,
        },
    )
    assert "Value '***' at 'webIdentityToken'" in message


def test_sts_message_style(sts_codec: QueryCodec) -> None:
    form = {
        **STS,
        "Action": "AssumeRole",
        "RoleArn": "arn:aws:iam::123456789012:role/demo",
        "RoleSessionName": "a:b",
    }
    assert _message(sts_codec, form) == (
        "1 validation error detected: Value 'a:b' at 'roleSessionName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    )
    form.update({"RoleSessionName": "ok", "DurationSeconds": "60"})
    assert _message(sts_codec, form).endswith(
        "Value '60' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )


def test_word_classes_follow_java_ascii_semantics(iam_codec: QueryCodec) -> None:
    # Java's \w is ASCII-only: AWS rejects non-ASCII letters in user names ...
    _message(iam_codec, {**IAM, "Action": "GetUser", "UserName": "bjørn"})
    # ... but tag keys use \p{L}, which is Unicode-aware.
    assert iam_codec.parse({**IAM, "Action": "TagUser", "UserName": "bob", **_tag(1, "clé")})
    assert compile_pattern(r"[\d]+")("٣") is None
    assert compile_pattern(r"a\\w")("a\\w") is not None


def test_missing_action(iam_codec: QueryCodec) -> None:
    for form in ({"Version": "2010-05-08"}, {"Action": ""}):
        with pytest.raises(MissingAction) as caught:
            iam_codec.parse(form)
        assert caught.value.code == "MissingAction"


def test_unknown_action(iam_codec: QueryCodec, sts_codec: QueryCodec) -> None:
    with pytest.raises(InvalidAction) as caught:
        iam_codec.parse({"Action": "GetCallerIdentity", "Version": "2010-05-08"})
    assert caught.value.message == (
        "Could not find operation GetCallerIdentity for version 2010-05-08"
    )
    with pytest.raises(InvalidAction) as caught:
        sts_codec.parse({"Action": "GetUser"})
    assert caught.value.message == "Could not find operation GetUser for version 2011-06-15"


def test_version_mismatch(sts_codec: QueryCodec) -> None:
    with pytest.raises(InvalidAction) as caught:
        sts_codec.parse({"Action": "GetCallerIdentity", "Version": "2010-05-08"})
    assert caught.value.message == (
        "Could not find operation GetCallerIdentity for version 2010-05-08"
    )
    # Version may be left out (some hand-written presigned URLs do).
    assert sts_codec.parse({"Action": "GetCallerIdentity"}) == ("GetCallerIdentity", {})


def test_non_member_keys_are_ignored(sts_codec: QueryCodec) -> None:
    form = {
        **STS,
        "Action": "GetCallerIdentity",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "AKID/20260101/us-east-1/sts/aws4_request",
        "X-Amz-Signature": "00",
        "Unrelated.member.1": "x",
    }
    assert sts_codec.parse(form) == ("GetCallerIdentity", {})


def test_list_indices_and_odd_keys(iam_codec: QueryCodec) -> None:
    form = {
        **IAM,
        "Action": "CreateUser",
        "UserName": "bob",
        "Tags.member.2.Key": "b",
        "Tags.member.2.Value": "2",
        "Tags.member.1.Key": "a",
        "Tags.member.1.Value": "1",
        "Tags.member.01.Key": "ignored",
        "Tags.member.x.Key": "ignored",
        "Tags.entry.1.Key": "ignored",
    }
    assert iam_codec.parse(form)[1]["Tags"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "2"},
    ]


def test_parse_timestamp_accepts_iso_and_epoch() -> None:
    moment = datetime(2012, 9, 21, 23, 3, 13, tzinfo=UTC)
    assert parse_timestamp("2012-09-21T23:03:13Z") == moment
    assert parse_timestamp("2012-09-21T23:03:13") == moment
    assert parse_timestamp("2012-09-22T01:03:13+02:00") == moment
    assert parse_timestamp("1348268593") == moment
    assert parse_timestamp("1348268593.5") == datetime(2012, 9, 21, 23, 3, 13, 500000, tzinfo=UTC)
    for bad in ("yesterday", "", "1e9", "nan", "99999999999999"):
        assert parse_timestamp(bad) is None


def test_all_failures_are_aws_errors(iam_codec: QueryCodec) -> None:
    with pytest.raises(AwsError):
        iam_codec.parse({**IAM, "Action": "UploadSSHPublicKey", "UserName": "x"})


def _model_patterns() -> set[str]:
    patterns: set[str] = set()
    for service in ("iam", "sts"):
        model = load_service_model(service)
        for name in model.shape_names:
            pattern = model.shape_for(name).metadata.get("pattern")
            if pattern is not None:
                patterns.add(pattern)
    return patterns


def test_every_model_pattern_compiles_and_matches_like_regex() -> None:
    probes = [sample for samples in PATTERN_SAMPLES.values() for sample in samples]
    probes += ["", " ", "a b", "é", "ü1", "\x00", "\t", "/", "//", "a/", "--", "a-b", "𝄞"]
    patterns = _model_patterns()
    assert len(patterns) > 30
    for pattern in patterns:
        ours = compile_pattern(pattern)
        reference = regex.compile(_javaize(pattern)).fullmatch
        for probe in probes:
            assert (ours(probe) is None) == (reference(probe) is None), (pattern, probe)
