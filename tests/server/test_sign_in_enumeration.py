"""Sign-in throttling cannot tell a user that exists from a name that is nobody's.

The back-off counts every name in one bounded ledger; these tests drive a real server
into the states that used to differ (10,050 distinct unknown names pushed the unknown
name out of a 10,000-name table while the user's count stayed in the database), with
the server's clock moved to build long back-off windows in no time and argon2 at its
cheapest (hidden test options) so that thousands of attempts take seconds.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.server.iam_helpers import ACCOUNT
from tests.support.clock import ServerClock
from tests.support.servers import RunningServer, start_server

GOOD = "Correct-Horse-9"
WRONG = "Battery-Staple-7"
USER = "alice"
NOBODY = "alyce"
# Attempts at most in flight at once: the endpoint answers more than half the worker
# threads (8 by default) `throttled` at once, without counting them.
CLIENTS = 4


class SignInClient:
    """One keep-alive connection to the sign-in endpoint."""

    def __init__(self, server: RunningServer) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def attempt(self, user: str, password: str = WRONG) -> tuple[int, dict[str, Any]]:
        body = json.dumps({"account": ACCOUNT, "userName": user, "password": password})
        self._conn.request("POST", "/_iamd/signin", body, {"Content-Type": "application/json"})
        response = self._conn.getresponse()
        return response.status, json.loads(response.read())

    def close(self) -> None:
        self._conn.close()


def _start(tmp_path: Path, *extra: str) -> tuple[RunningServer, ServerClock]:
    clock = ServerClock(tmp_path / "clock")
    server = start_server(
        tmp_path / "data",
        test_clock_file=clock.path,
        extra_args=["--test-fast-password-hashing", *extra],
    )
    server.client("iam").create_user(UserName=USER)
    server.client("iam").create_login_profile(UserName=USER, Password=GOOD)
    return server, clock


@pytest.fixture
def client_pool() -> Iterator[list[SignInClient]]:
    clients: list[SignInClient] = []
    yield clients
    for client in clients:
        client.close()


def _back_off_for_fifteen_minutes(client: SignInClient, clock: ServerClock, *names: str) -> None:
    """Fail each name until its window is the longest one (900 s), moving the clock."""
    for _ in range(3):
        for name in names:
            assert client.attempt(name)[0] == 401
    offset = 0.0
    for window in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512):
        offset += window + 1
        clock.set_offset(offset)
        for name in names:
            assert client.attempt(name)[0] == 401, name
    for name in names:
        status, body = client.attempt(name)
        assert (status, body["outcome"]) == (429, "throttled")
        assert 890 <= body["retryAfterSeconds"] <= 900


def _flood(clients: list[SignInClient], names: list[str], times: int = 1) -> set[int]:
    """Each name failed `times` times in a row, spread over the clients; the statuses."""

    def run(index: int) -> set[int]:
        seen = set()
        for name in names[index :: len(clients)]:
            for _ in range(times):
                seen.add(clients[index].attempt(name)[0])
        return seen

    with ThreadPoolExecutor(len(clients)) as pool:
        return set().union(*pool.map(run, range(len(clients))))


def _answers(client: SignInClient, *names: str) -> list[tuple[int, str]]:
    return [(status, body["outcome"]) for status, body in map(client.attempt, names)]


@pytest.mark.slow
def test_ten_thousand_and_fifty_unknown_names_answer_alike(
    tmp_path: Path, client_pool: list[SignInClient]
) -> None:
    server, clock = _start(tmp_path)
    try:
        client_pool.extend(SignInClient(server) for _ in range(CLIENTS))
        first = client_pool[0]
        _back_off_for_fifteen_minutes(first, clock, USER, NOBODY)

        statuses = _flood(client_pool, [f"nobody-{i:05d}" for i in range(10_050)])
        assert statuses == {401}

        # The user and the name that is nobody's are both still backing off.
        assert _answers(first, USER, NOBODY) == [(429, "throttled")] * 2
        # Even the right password gets no answer about itself inside the window.
        status, body = first.attempt(USER, GOOD)
        assert (status, body["outcome"]) == (429, "throttled")
    finally:
        server.stop()


def test_what_a_full_ledger_forgets_tells_nothing(
    tmp_path: Path, client_pool: list[SignInClient]
) -> None:
    server, clock = _start(tmp_path, "--sign-in-tracked-names", "40")
    try:
        client_pool.extend(SignInClient(server) for _ in range(CLIENTS))
        first = client_pool[0]
        _back_off_for_fifteen_minutes(first, clock, USER, NOBODY)

        # Names tried once each never push out a name that is backing off.
        assert _flood(client_pool, [f"once-{i}" for i in range(200)]) == {401}
        assert _answers(first, USER, NOBODY) == [(429, "throttled")] * 2

        # Forty other names backing off, and more names after them, do push both out,
        # both alike (one client: names failed in parallel push each other out first).
        assert _flood(client_pool[:1], [f"thrice-{i}" for i in range(45)], times=3) == {401}
        assert _answers(first, USER, NOBODY) == [(401, "invalid_credentials")] * 2
        assert first.attempt(USER, GOOD)[1]["outcome"] == "signed_in"
    finally:
        server.stop()


def test_a_wrong_account_counts_like_a_wrong_name(server: RunningServer, unique: str) -> None:
    iam = server.client("iam")
    name = f"{unique}-acct"
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=GOOD)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        for expected in (401, 401, 401, 429):
            body = json.dumps({"account": "999999999999", "userName": name, "password": GOOD})
            conn.request("POST", "/_iamd/signin", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            assert response.status == expected
    finally:
        conn.close()
