"""`GET /metrics`: Prometheus text scraped from a real server after real traffic.

Requests by operation and outcome with their latency histogram, authentication
failures by reason, sign-in outcomes, cache hit counts, the database pool and git
sessions; served to loopback clients, or to holders of the bearer token; off with
--no-metrics.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.metrics import Samples, metric_value, parse_metrics
from tests.support.servers import ADMIN_KEY_ID, ADMIN_SECRET, RunningServer, start_server
from tests.support.signing import send, signed_post

from iamd.http.operator_routes import MetricsEndpoint
from iamd.telemetry.metrics import Metrics


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - http://
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _scrape(server: RunningServer) -> Samples:
    status, headers, body = _get(f"{server.endpoint}/metrics")
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse_metrics(body)


@pytest.fixture
def metered(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_server(tmp_path / "data")
    yield server
    server.stop()


def test_requests_failures_sign_ins_and_caches_are_counted(metered: RunningServer) -> None:
    iam = metered.client()
    for _ in range(3):
        iam.get_user()
    iam.create_user(UserName="dora")
    with pytest.raises(ClientError):
        iam.get_user(UserName="nobody-here")
    unknown_key = metered.client(key_id="AKIAIAMDNOSUCHKEY001", secret="x" * 40)
    with pytest.raises(ClientError):
        unknown_key.get_user()
    wrong_secret = metered.client(secret="y" * 40)
    with pytest.raises(ClientError):
        wrong_secret.get_user()
    # An action no table names is counted as "unknown", not under the name sent.
    response = send(
        signed_post(
            metered.endpoint, "Action=NoSuchThing123&Version=2010-05-08", ADMIN_KEY_ID, ADMIN_SECRET
        )
    )
    assert response.status == 400
    sign_in = urllib.request.Request(  # noqa: S310 - our http:// endpoint
        f"{metered.endpoint}/_iamd/signin",
        data=json.dumps(
            {"account": "123456789012", "userName": "dora", "password": "wrong-password-1"}
        ).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(sign_in, timeout=30)  # noqa: S310 - our endpoint
    assert refused.value.code == 401

    samples = _scrape(metered)
    ok = {"service": "iam", "operation": "GetUser", "outcome": "ok"}
    assert metric_value(samples, "iamd_requests_total", **ok) == 3
    assert metric_value(samples, "iamd_request_duration_seconds_count", **ok) == 3
    assert metric_value(samples, "iamd_request_duration_seconds_bucket", **ok, le="+Inf") == 3
    assert metric_value(samples, "iamd_request_duration_seconds_bucket", **ok, le="10") == 3
    assert 0 < metric_value(samples, "iamd_request_duration_seconds_sum", **ok) < 30
    assert (
        metric_value(
            samples, "iamd_requests_total", service="iam", operation="CreateUser", outcome="ok"
        )
        == 1
    )
    assert (
        metric_value(
            samples,
            "iamd_requests_total",
            service="iam",
            operation="GetUser",
            outcome="NoSuchEntity",
        )
        == 1
    )
    names = {labels for (name, labels) in samples if name == "iamd_requests_total"}
    assert not any(("operation", "NoSuchThing123") in labels for labels in names)
    assert any(("operation", "unknown") in labels for labels in names)
    assert (
        metric_value(
            samples,
            "iamd_authentication_failures_total",
            front="api",
            reason="InvalidClientTokenId",
        )
        == 1
    )
    assert (
        metric_value(
            samples,
            "iamd_authentication_failures_total",
            front="api",
            reason="SignatureDoesNotMatch",
        )
        == 1
    )
    assert metric_value(samples, "iamd_sign_ins_total", outcome="invalid_credentials") == 1
    # The admin's key was resolved once and then served from the credential cache.
    assert metric_value(samples, "iamd_cache_hits_total", cache="credentials") >= 4
    assert 0 < metric_value(samples, "iamd_cache_hit_ratio", cache="credentials") < 1
    assert metric_value(samples, "iamd_cache_max_entries", cache="credentials") == 20000
    assert metric_value(samples, "iamd_database_pool_size") == 8
    assert metric_value(samples, "iamd_database_pool_checked_out") == 0
    assert metric_value(samples, "iamd_git_sessions_active") == 0
    assert metric_value(samples, "iamd_git_sessions_max") == 32
    assert ("iamd_build_info", frozenset({("version", "0.1.0")})) in samples


def test_a_token_protects_metrics_even_from_loopback(tmp_path: Path) -> None:
    token = "metrics-token-0123456789abcdef"
    server = start_server(tmp_path / "data", extra_env={"IAMD_METRICS_TOKEN": token})
    try:
        url = f"{server.endpoint}/metrics"
        status, headers, _ = _get(url)
        assert status == 401
        assert headers["www-authenticate"].startswith("Bearer")
        assert _get(url, {"Authorization": "Bearer not-the-token-at-all-0000"})[0] == 401
        assert _get(url, {"Authorization": token})[0] == 401
        status, _, body = _get(url, {"Authorization": f"Bearer {token}"})
        assert status == 200
        assert "iamd_requests_total" in body
        assert token not in server.log_text()
    finally:
        server.stop()


def test_metrics_can_be_switched_off(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", extra_args=["--no-metrics"])
    try:
        status, _, body = _get(f"{server.endpoint}/metrics")
        assert status != 200
        assert "iamd_requests_total" not in body
    finally:
        server.stop()


def test_a_short_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="at least 16 characters"):
        start_server(tmp_path / "data", extra_env={"IAMD_METRICS_TOKEN": "short"})


@pytest.mark.parametrize(
    ("client", "status"),
    [
        (("127.0.0.1", 50000), 200),
        (("::1", 50000), 200),
        (("::ffff:127.0.0.1", 50000), 200),
        (("192.0.2.10", 50000), 403),
        (("2001:db8::1", 50000), 403),
        (None, 403),
    ],
)
def test_without_a_token_only_loopback_clients_are_answered(
    client: tuple[str, int] | None, status: int
) -> None:
    # Only loopback traffic may be sent in the suite, so other peers are given to the
    # endpoint as the ASGI scope uvicorn would build for them.
    endpoint = MetricsEndpoint(Metrics(), token=None)
    scope: dict[str, Any] = {"method": "GET", "headers": [], "client": client}
    assert endpoint.answer(scope)[0] == status
