"""iamd as an OIDC issuer through boto3: Enable/Disable/GetOutboundWebIdentityFederation
(Info), GetWebIdentityToken, and the discovery document and JWKS fetched over HTTP from
the running server and checked with PyJWT, as an external verifier would."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.auth
import jwt
import psycopg
import pytest
from botocore.config import Config
from tests.server.iam_helpers import ACCOUNT, error_of
from tests.server.test_sts_assume_role import allow, make_role, trust
from tests.server.test_sts_sessions import user_with_key
from tests.support.clock import ServerClock
from tests.support.servers import RunningServer, start_server
from tests.support.trail_store import stored_records

from iamd.server.settings import Settings

AUDIENCE = "https://api.example.com"
AWS_CLAIMS = "https://sts.amazonaws.com/"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def issuer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of this module's own, with outbound federation enabled."""
    data = tmp_path_factory.mktemp("iamd-outbound")
    running = start_server(data / "data", test_clock_file=data / "clock")
    running.client().enable_outbound_web_identity_federation()
    yield running
    running.stop()


@pytest.fixture
def issuer_clock(issuer_server: RunningServer) -> Iterator[ServerClock]:
    clock = ServerClock(issuer_server.data_dir.parent / "clock")
    yield clock
    clock.set_offset(0)


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
        assert response.headers["Content-Type"] == "application/json"
        document: dict[str, Any] = json.loads(response.read())
        return document


def token_user(
    server: RunningServer, name: str, policy: str | None = None, *, validating: bool = True
) -> Any:
    """An STS client for a new user allowed sts:GetWebIdentityToken (or `policy`);
    `validating=False`: botocore sends what its model would refuse, the server answers."""
    iam = server.client()
    key_id, secret = user_with_key(iam, name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="tokens",
        PolicyDocument=policy or allow("sts:GetWebIdentityToken"),
    )
    if validating:
        return server.client("sts", key_id, secret)
    return boto3.client(
        "sts",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )


def verify(token: str, issuer: str, audience: str = AUDIENCE, **options: Any) -> dict[str, Any]:
    """Verify as a relying party does: discovery document, its jwks_uri, the token's kid."""
    configuration = get_json(issuer + "/.well-known/openid-configuration")
    assert configuration["issuer"] == issuer
    signing_key = jwt.PyJWKClient(configuration["jwks_uri"], cache_keys=False)
    key = signing_key.get_signing_key_from_jwt(token)
    checks: Any = {"require": ["iss", "sub", "aud", "exp", "iat", "jti"], **options}
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=configuration["id_token_signing_alg_values_supported"],
        audience=audience,
        issuer=issuer,
        options=checks,
    )
    return claims


def issuer_of(server: RunningServer) -> str:
    return str(server.client().get_outbound_web_identity_federation_info()["IssuerIdentifier"])


def test_enable_disable_and_info_with_aws_errors(fresh_server: RunningServer) -> None:
    iam = fresh_server.client()
    sts = token_user(fresh_server, "tokens")
    assert error_of(iam.get_outbound_web_identity_federation_info)[:2] == (404, "FeatureDisabled")
    assert error_of(iam.disable_outbound_web_identity_federation)[:2] == (404, "FeatureDisabled")
    status, code, _ = error_of(
        sts.get_web_identity_token, Audience=[AUDIENCE], SigningAlgorithm="ES384"
    )
    assert (status, code) == (403, "OutboundWebIdentityFederationDisabledException")

    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    assert re.fullmatch(re.escape(fresh_server.endpoint) + "/oidc/" + _UUID, issuer)
    status, code, _ = error_of(iam.enable_outbound_web_identity_federation)
    assert (status, code) == (409, "FeatureEnabled")
    info = iam.get_outbound_web_identity_federation_info()
    assert (info["IssuerIdentifier"], info["JwtVendingEnabled"]) == (issuer, True)
    token = sts.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm="ES384")
    verify(token["WebIdentityToken"], issuer)

    iam.disable_outbound_web_identity_federation()
    info = iam.get_outbound_web_identity_federation_info()
    assert (info["IssuerIdentifier"], info["JwtVendingEnabled"]) == (issuer, False)
    status, code, _ = error_of(
        sts.get_web_identity_token, Audience=[AUDIENCE], SigningAlgorithm="RS256"
    )
    assert (status, code) == (403, "OutboundWebIdentityFederationDisabledException")
    # Tokens issued before the disable still verify: the keys stay published.
    verify(token["WebIdentityToken"], issuer)
    assert error_of(iam.disable_outbound_web_identity_federation)[:2] == (404, "FeatureDisabled")
    # Enabled again: the same issuer, which external services already trust.
    assert iam.enable_outbound_web_identity_federation()["IssuerIdentifier"] == issuer


@pytest.mark.parametrize("algorithm", ["RS256", "ES384"])
def test_a_token_verifies_against_the_published_keys(
    issuer_server: RunningServer, unique: str, algorithm: str
) -> None:
    iam = issuer_server.client()
    sts = token_user(issuer_server, unique)
    iam.tag_user(UserName=unique, Tags=[{"Key": "team", "Value": "data"}])
    iam.put_user_policy(
        UserName=unique,
        PolicyName="tagging",
        PolicyDocument=allow(["sts:GetWebIdentityToken", "sts:TagGetWebIdentityToken"]),
    )
    response = sts.get_web_identity_token(
        Audience=[AUDIENCE],
        SigningAlgorithm=algorithm,
        DurationSeconds=900,
        Tags=[{"Key": "job", "Value": "nightly"}],
    )
    token = response["WebIdentityToken"]
    issuer = issuer_of(issuer_server)
    claims = verify(token, issuer)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == algorithm
    assert header["typ"] == "JWT"
    published = get_json(issuer + "/.well-known/jwks.json")["keys"]
    assert header["kid"] in {key["kid"] for key in published if key["alg"] == algorithm}
    assert claims["sub"] == f"arn:aws:iam::{ACCOUNT}:user/{unique}"
    assert claims["aud"] == AUDIENCE
    assert claims["exp"] - claims["iat"] == 900
    assert int(response["Expiration"].timestamp()) == claims["exp"]
    assert claims[AWS_CLAIMS] == {
        "aws_account": ACCOUNT,
        "source_region": "us-east-1",
        "principal_tags": {"team": "data"},
        "request_tags": {"job": "nightly"},
    }
    # The verifier's checks are real: another audience, another issuer, one changed
    # byte of the signature are each refused.
    with pytest.raises(jwt.InvalidAudienceError):
        verify(token, issuer, audience="https://other.example.com")
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(
            token,
            jwt.PyJWKClient(issuer + "/.well-known/jwks.json").get_signing_key_from_jwt(token),
            algorithms=[algorithm],
            audience=AUDIENCE,
            issuer=issuer + "x",
        )
    head, body, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(jwt.InvalidSignatureError):
        verify(f"{head}.{body}.{flipped}", issuer)


def test_the_discovery_document_and_unknown_paths(issuer_server: RunningServer) -> None:
    issuer = issuer_of(issuer_server)
    configuration = get_json(issuer + "/.well-known/openid-configuration")
    assert configuration == {
        "issuer": issuer,
        "jwks_uri": issuer + "/.well-known/jwks.json",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES384"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "jti", AWS_CLAIMS],
    }
    keys = get_json(configuration["jwks_uri"])["keys"]
    assert {key["alg"] for key in keys} == {"RS256", "ES384"}
    for key in keys:
        # Public halves only.
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), key
        assert key["use"] == "sig"
    base = issuer_server.endpoint + "/oidc/"
    for path in (
        "00000000-0000-4000-8000-000000000000/.well-known/jwks.json",
        "not-an-issuer/.well-known/openid-configuration",
        issuer.rsplit("/", 1)[1] + "/.well-known/other",
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + path, timeout=10)  # noqa: S310
        assert refused.value.code == 404
    head_request = urllib.request.Request(configuration["jwks_uri"], method="HEAD")  # noqa: S310
    with urllib.request.urlopen(head_request, timeout=10) as head:  # noqa: S310
        assert head.status == 200
        assert head.headers["Cache-Control"] == "public, max-age=300"
        assert head.read() == b""
        request = urllib.request.Request(  # noqa: S310 - our own server
            issuer + "/.well-known/jwks.json", method="POST", data=b""
        )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    assert refused.value.code == 405


def test_duration_bounds_algorithm_and_audiences(issuer_server: RunningServer, unique: str) -> None:
    sts = token_user(issuer_server, unique, validating=False)
    issuer = issuer_of(issuer_server)
    for seconds in (59, 3601):
        status, code, message = error_of(
            sts.get_web_identity_token,
            Audience=[AUDIENCE],
            SigningAlgorithm="ES384",
            DurationSeconds=seconds,
        )
        assert (status, code) == (400, "ValidationError"), message
        assert "durationSeconds" in message
    for seconds in (60, 3600):
        token = sts.get_web_identity_token(
            Audience=[AUDIENCE], SigningAlgorithm="ES384", DurationSeconds=seconds
        )["WebIdentityToken"]
        claims = verify(token, issuer)
        assert claims["exp"] - claims["iat"] == seconds
    default = verify(
        sts.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm="RS256")[
            "WebIdentityToken"
        ],
        issuer,
    )
    assert default["exp"] - default["iat"] == 300
    status, code, message = error_of(
        sts.get_web_identity_token, Audience=[AUDIENCE], SigningAlgorithm="HS256"
    )
    assert (status, code) == (400, "ValidationError")
    assert "signingAlgorithm" in message
    # Several audiences: the aud claim is their list, and each verifies.
    audiences = [AUDIENCE, "https://b.example.com"]
    token = sts.get_web_identity_token(Audience=audiences, SigningAlgorithm="ES384")
    claims = verify(token["WebIdentityToken"], issuer, audience="https://b.example.com")
    assert claims["aud"] == audiences
    assert "request_tags" not in claims[AWS_CLAIMS]


def test_policies_limit_audience_duration_and_tags(
    issuer_server: RunningServer, unique: str
) -> None:
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:GetWebIdentityToken",
                    "Resource": "*",
                    "Condition": {
                        "ForAllValues:StringEquals": {"sts:IdentityTokenAudience": AUDIENCE},
                        "NumericLessThanEquals": {"sts:DurationSeconds": 300},
                    },
                }
            ],
        }
    )
    sts = token_user(issuer_server, unique, policy)
    sts.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm="ES384")
    for params in (
        {"Audience": ["https://evil.example.com"]},
        {"Audience": [AUDIENCE, "https://evil.example.com"]},
        {"Audience": [AUDIENCE], "DurationSeconds": 301},
        # Request tags also need sts:TagGetWebIdentityToken.
        {"Audience": [AUDIENCE], "Tags": [{"Key": "k", "Value": "v"}]},
    ):
        status, code, message = error_of(
            sts.get_web_identity_token, SigningAlgorithm="ES384", **params
        )
        assert (status, code) == (403, "AccessDenied"), params
        assert f"user/{unique} is not authorized to perform: sts:" in message
    nobody = token_user(issuer_server, f"{unique}-n", allow("iam:GetUser"))
    status, code, message = error_of(
        nobody.get_web_identity_token, Audience=[AUDIENCE], SigningAlgorithm="RS256"
    )
    assert (status, code) == (403, "AccessDenied")
    assert "sts:GetWebIdentityToken" in message


def test_a_role_session_gets_its_role_as_subject_within_its_session(
    issuer_server: RunningServer, unique: str
) -> None:
    iam = issuer_server.client()
    role_arn = make_role(
        iam,
        unique,
        trust(f"arn:aws:iam::{ACCOUNT}:root"),
        Tags=[{"Key": "env", "Value": "prod"}],
    )
    iam.put_role_policy(
        RoleName=unique, PolicyName="t", PolicyDocument=allow("sts:GetWebIdentityToken")
    )
    credentials = issuer_server.client("sts").assume_role(
        RoleArn=role_arn, RoleSessionName="job", DurationSeconds=900
    )["Credentials"]
    sts = issuer_server.client(
        "sts",
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    token = sts.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm="ES384")
    claims = verify(token["WebIdentityToken"], issuer_of(issuer_server))
    assert claims["sub"] == role_arn
    assert claims[AWS_CLAIMS]["principal_tags"] == {"env": "prod"}
    # The token may not outlive the session it was asked for with.
    status, code, _ = error_of(
        sts.get_web_identity_token,
        Audience=[AUDIENCE],
        SigningAlgorithm="ES384",
        DurationSeconds=3600,
    )
    assert (status, code) == (403, "SessionDurationEscalationException")


def test_private_keys_are_sealed_in_the_database(issuer_server: RunningServer) -> None:
    database = issuer_server.data_dir / "iamd.sqlite3"
    published = get_json(issuer_of(issuer_server) + "/.well-known/jwks.json")["keys"]
    stored = b"".join(
        path.read_bytes()
        for path in (database, database.with_name(database.name + "-wal"))
        if path.exists()
    )
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT kid, private_key_sealed FROM outbound_signing_keys").fetchall()
    assert {kid for kid, _ in rows} >= {key["kid"] for key in published}
    for _kid, sealed in rows:
        assert b"PRIVATE KEY" not in sealed
        assert sealed[:1] == b"\x01"  # the secret box's format: version, nonce, ciphertext
    # The public halves are there (the right file), no private key in PEM or DER form is.
    assert published[0]["kid"].encode() in stored
    assert b"PRIVATE KEY" not in stored
    assert b"-----BEGIN" not in stored
    for oid in (
        bytes.fromhex("06092a864886f70d010101"),  # rsaEncryption, in every RSA PKCS#8 DER
        bytes.fromhex("06072a8648ce3d0201"),  # id-ecPublicKey, in every EC PKCS#8 DER
    ):
        assert oid not in stored


@contextmanager
def signing_ahead(offset: timedelta) -> Iterator[None]:
    """boto3 signs with the server's moved clock (SigV4 refuses a 15-minute skew)."""
    real = botocore.auth.get_current_datetime
    with mock.patch("botocore.auth.get_current_datetime", side_effect=lambda: real() + offset):
        yield


def test_keys_rotate_and_stay_published_after_they_retire(
    issuer_server: RunningServer, issuer_clock: ServerClock, unique: str
) -> None:
    sts = token_user(issuer_server, unique)
    issuer = issuer_of(issuer_server)

    def token_at(days: float) -> tuple[str, set[str]]:
        offset = timedelta(days=days)
        issuer_clock.set_offset(offset.total_seconds())
        with signing_ahead(offset):
            token = sts.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm="ES384")
        # iat is in the verifier's future: only the server's clock moved.
        verify(token["WebIdentityToken"], issuer, verify_iat=False)
        keys = get_json(issuer + "/.well-known/jwks.json")["keys"]
        kid = jwt.get_unverified_header(token["WebIdentityToken"])["kid"]
        return kid, {key["kid"] for key in keys if key["alg"] == "ES384"}

    first, published = token_at(0)
    assert first in published
    # Within a day of its retirement the successor is published, not yet signing.
    still, published = token_at(6.5)
    assert still == first
    assert len(published) == 2
    (successor,) = published - {first}
    # Past the retirement the successor signs; the retired key is still published.
    second, published = token_at(7.1)
    assert second == successor
    assert published == {first, successor}
    # A day after its retirement the old key is gone.
    third, published = token_at(8.2)
    assert third == successor
    assert first not in published
    # The clock back where it was: the first key signs again, and the JWKS this node
    # read at day 8.2 (kept a few seconds) is not taken for fresh.
    again, published = token_at(0)
    assert again == first
    assert first in published


@pytest.mark.postgres
def test_public_url_and_two_nodes_on_postgresql(fresh_postgres_url: str, tmp_path: Path) -> None:
    """The issuer is under --public-url (a proxy's); a token one node signs verifies
    against the JWKS the other serves (the sealed keys open with the shared master key)."""
    env = {"IAMD_MASTER_KEY": "aWFtZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="}
    public = ["--public-url", "https://iam.example.com/idp/"]
    node_a = start_server(
        tmp_path / "a", database_url=fresh_postgres_url, extra_env=env, extra_args=public
    )
    node_b = start_server(
        tmp_path / "b", database_url=fresh_postgres_url, extra_env=env, extra_args=public
    )
    try:
        issuer = node_a.client().enable_outbound_web_identity_federation()["IssuerIdentifier"]
        assert re.fullmatch(r"https://iam\.example\.com/idp/oidc/" + _UUID, issuer)
        sts = token_user(node_b, "tokens")
        local = node_a.endpoint + "/oidc/" + issuer.rsplit("/", 1)[1]
        configuration = get_json(local + "/.well-known/openid-configuration")
        assert configuration["issuer"] == issuer
        assert configuration["jwks_uri"] == issuer + "/.well-known/jwks.json"
        for algorithm in ("RS256", "ES384"):
            token = sts.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm=algorithm)
            key = jwt.PyJWKClient(local + "/.well-known/jwks.json").get_signing_key_from_jwt(
                token["WebIdentityToken"]
            )
            claims = jwt.decode(
                token["WebIdentityToken"],
                key,
                algorithms=[algorithm],
                audience=AUDIENCE,
                issuer=issuer,
            )
            assert claims["sub"] == f"arn:aws:iam::{ACCOUNT}:user/tokens"
    finally:
        node_a.stop()
        node_b.stop()


def test_a_malformed_public_url_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="--public-url must be an http:// or https:// URL"):
        start_server(
            tmp_path / "data", extra_env={"IAMD_PUBLIC_URL": "https://u:p@iam.example.com"}
        )
    for bad in ("ftp://iam.example.com", "https://iam.example.com/?a=1", "iam.example.com"):
        with pytest.raises(ValueError, match="--public-url"):
            Settings(public_url=bad)
    for good in ("https://iam.example.com", "http://[::1]:4580/iamd/", "https://a.b:8443/x/y"):
        assert Settings(public_url=good).public_url == good


def test_the_token_is_kept_out_of_the_audit_trail_and_the_log(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", extra_args=["--audit-trail"])
    try:
        server.client().enable_outbound_web_identity_federation()
        sts = token_user(server, "tokens")
        token = sts.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm="RS256")
        body = token["WebIdentityToken"].split(".")[1]
        database = server.data_dir / "iamd.sqlite3"
        deadline = time.monotonic() + 10
        records: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            records = stored_records(database)
            if any(r["eventName"] == "GetWebIdentityToken" for r in records):
                break
            time.sleep(0.2)
        (event,) = [r for r in records if r["eventName"] == "GetWebIdentityToken"]
        assert event["requestParameters"]["audience"] == [AUDIENCE]
        assert event["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/tokens"
        for text in (*records, server.log_text()):
            assert body not in text
    finally:
        server.stop()


def test_an_organization_member_gets_its_organization_claims(fresh_server: RunningServer) -> None:
    organizations = fresh_server.client("organizations")
    organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    root = organizations.list_roots()["Roots"][0]["Id"]
    fresh_server.client().enable_outbound_web_identity_federation()
    sts = token_user(fresh_server, "member")
    token = sts.get_web_identity_token(Audience=[AUDIENCE], SigningAlgorithm="ES384")
    claims = verify(token["WebIdentityToken"], issuer_of(fresh_server))
    assert claims[AWS_CLAIMS]["org_id"] == organization["Id"]
    assert claims[AWS_CLAIMS]["ou_path"] == f"{organization['Id']}/{root}/"


def test_an_oversized_payload_is_refused(issuer_server: RunningServer, unique: str) -> None:
    sts = token_user(
        issuer_server,
        unique,
        allow(["sts:GetWebIdentityToken", "sts:TagGetWebIdentityToken"]),
    )
    audiences = [f"https://{i}.example.com/" + "a" * 970 for i in range(10)]
    tags = [{"Key": f"k{i:02d}" + "k" * 125, "Value": "v" * 256} for i in range(50)]
    status, code, _ = error_of(
        sts.get_web_identity_token, Audience=audiences, SigningAlgorithm="ES384", Tags=tags
    )
    assert (status, code) == (400, "JWTPayloadSizeExceededException")
    # Either half alone fits.
    halves: list[dict[str, Any]] = [{"Audience": audiences}, {"Audience": [AUDIENCE], "Tags": tags}]
    for params in halves:
        token = sts.get_web_identity_token(SigningAlgorithm="ES384", **params)
        verify(token["WebIdentityToken"], issuer_of(issuer_server), audience=params["Audience"][0])


def _status_of(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 - our own server
            headers = {k.lower(): v for k, v in response.headers.items()}
            return response.status, headers, response.read().decode()
    except urllib.error.HTTPError as error:
        headers = {k.lower(): v for k, v in error.headers.items()}
        return error.code, headers, error.read().decode()


@pytest.mark.postgres
def test_document_reads_are_bounded_and_an_outage_is_503(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    """With --worker-threads 2 one document read runs at a time: while one waits on a
    locked table, another is refused at once with 503 and Retry-After; the waiting one
    answers ServiceUnavailable when PostgreSQL's lock timeout runs out."""
    server = start_server(
        tmp_path / "data", database_url=fresh_postgres_url, extra_args=["--worker-threads", "2"]
    )
    holder = psycopg.connect(fresh_postgres_url)
    try:
        issuer = server.client().enable_outbound_web_identity_federation()["IssuerIdentifier"]
        holder.execute("LOCK TABLE outbound_federation IN ACCESS EXCLUSIVE MODE")
        waiting: list[tuple[int, dict[str, str], str]] = []
        reader = threading.Thread(
            target=lambda: waiting.append(_status_of(issuer + "/.well-known/jwks.json"))
        )
        reader.start()
        deadline = time.monotonic() + 10
        with psycopg.connect(fresh_postgres_url, autocommit=True) as watcher:
            while time.monotonic() < deadline:
                blocked = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                ).fetchone()
                if blocked is not None and blocked[0] > 0:
                    break
                time.sleep(0.05)
        status, headers, body = _status_of(issuer + "/.well-known/openid-configuration")
        assert (status, headers.get("retry-after")) == (503, "1"), body
        reader.join(timeout=15)
        assert waiting[0][0] == 503, waiting
        assert "Too many" not in waiting[0][2]
        assert "Traceback" not in server.log_text()
        holder.rollback()
        assert _status_of(issuer + "/.well-known/openid-configuration")[0] == 200
    finally:
        holder.close()
        server.stop()
