"""How connections spread over `iamd serve --workers 2`: one inherited socket or SO_REUSEPORT.

    python bench/worker_balance.py [--trials 20] [--connections 16]

Part 1, iamd itself: opens `--connections` connections at once (as wrk does at its
start), asks each for /_iamd/health and counts which worker (`X-Iamd-Worker`) holds it;
repeated `--trials` times. Part 2, the two ways side by side on a stand-in: two forked
processes each run an asyncio server (uvicorn's accept path: `loop.create_server(sock=)`)
on (a) one listening socket both inherit, or (b) a socket of their own with
SO_REUSEPORT; (i) the same burst of kept-alive connections, idle servers, and (ii) short
connections (one request each, 16 clients in a loop) while each request costs 1 ms of
CPU, which shows whether a busy worker keeps taking new connections. Prints, per way,
the mean and the worst share of the busier worker (0.50 is even).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iamd_process import free_port


def _share(counts: Counter[int], total: int) -> float:
    return max(counts.values(), default=0) / max(total, 1)


def _iamd_trials(trials: int, connections: int) -> list[float]:
    work = Path(tempfile.mkdtemp(prefix="iamd-balance-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMD_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "src")
    command = [sys.executable, "-m", "iamd", "serve", "--port", str(port), "--no-git-ssh"]
    server = subprocess.Popen(
        [*command, "--workers", "2", "--data-dir", str(work / "data")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seen: set[str] = set()
        deadline = time.monotonic() + 120
        while len(seen) < 2 and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_iamd/health") as answer:
                    seen.add(answer.headers["X-Iamd-Worker"])
            except OSError:
                time.sleep(0.1)
        shares = []
        with ThreadPoolExecutor(connections) as pool:
            for _ in range(trials):
                conns = [http.client.HTTPConnection("127.0.0.1", port) for _ in range(connections)]
                list(pool.map(lambda c: c.connect(), conns))
                counts: Counter[int] = Counter(pool.map(_worker_of, conns))
                shares.append(_share(counts, connections))
                for conn in conns:
                    conn.close()
        return shares
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def _worker_of(conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/_iamd/health")
    answer = conn.getresponse()
    answer.read()
    return int((answer.getheader("X-Iamd-Worker") or "-1 0").split()[0])


def _stand_in(index: int, sock: socket.socket, cpu_ms: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline():
            end = time.perf_counter() + cpu_ms / 1000
            while time.perf_counter() < end:
                pass
            writer.write(f"{index}\n".encode())
            await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, sock=sock)
        await server.serve_forever()

    asyncio.run(main())


def _listening(port: int, reuseport: bool) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    return sock


def _fork_stand_ins(reuseport: bool, cpu_ms: float) -> tuple[int, list[int]]:
    port = free_port()
    shared = None if reuseport else _listening(port, False)
    pids = []
    for index in range(2):
        sock = _listening(port, True) if reuseport else shared
        assert sock is not None
        pid = os.fork()
        if pid == 0:
            try:
                _stand_in(index, sock, cpu_ms)
            finally:
                os._exit(0)
        pids.append(pid)
        if reuseport:
            sock.close()
    if shared is not None:
        shared.close()
    time.sleep(0.5)
    return port, pids


async def _burst(port: int, connections: int) -> Counter[int]:
    async def one() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"which\n")
        index = int(await reader.readline())
        writer.close()
        return index

    return Counter(await asyncio.gather(*(one() for _ in range(connections))))


async def _short_under_load(port: int, clients: int, seconds: float) -> Counter[int]:
    counts: Counter[int] = Counter()
    end = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < end:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"req\n")
            counts[int(await reader.readline())] += 1
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return counts


def _stand_in_trials(reuseport: bool, trials: int, connections: int) -> tuple[list[float], float]:
    port, pids = _fork_stand_ins(reuseport, cpu_ms=1.0)
    try:
        shares = []
        for _ in range(trials):
            counts = asyncio.run(_burst(port, connections))
            shares.append(_share(counts, connections))
        loaded = asyncio.run(_short_under_load(port, connections, 5.0))
        return shares, _share(loaded, sum(loaded.values()))
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _line(name: str, shares: list[float]) -> str:
    return (
        f"{name:48} busier worker's share of {len(shares)} bursts: "
        f"mean {statistics.mean(shares):.2f}, worst {max(shares):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    print(_line("iamd --workers 2 (SO_REUSEPORT)", _iamd_trials(args.trials, args.connections)))
    for name, reuseport in (("inherited socket", False), ("SO_REUSEPORT", True)):
        shares, loaded = _stand_in_trials(reuseport, args.trials, args.connections)
        print(_line(f"stand-in, {name}", shares))
        print(f"{'':48} short connections under load: busier worker's share {loaded:.2f}")


if __name__ == "__main__":
    main()
