"""Prometheus metrics kept in memory and rendered in the text exposition format (0.0.4).

The request path pays for one uncontended lock, one dictionary look-up and a bisect
per request (`RequestMetrics.observe`); everything else — cache sizes and hit counts,
the database pool, git sessions — is read when `/metrics` is scraped, through
collectors registered at start-up. Label values come from closed sets only (operation
names from the operation table, AWS error codes, sign-in outcomes, cache names), so a
client cannot create series by sending odd requests.

Written here rather than with prometheus_client: its labelled histograms take a lock
per bucket and per child look-up, and iamd needs only counters, gauges and one
histogram.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from iamd import __version__

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
# Seconds; from a cached read (~0.3 ms) to a slow write or a git push.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Sample:
    """One line of a family: labels (name, value) pairs and the number."""

    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    kind: str  # counter | gauge | histogram
    help: str
    samples: Sequence[Sample]
    # Lines already in the exposition format (the histogram writes its own: building a
    # Sample per bucket cost ten times more).
    lines: Sequence[str] = ()


Collector = Callable[[], Iterable[Family]]


class _Series:
    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)


class RequestMetrics:
    """API requests by service, operation and outcome ("ok" or the AWS error code)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str, str], _Series] = {}

    def observe(self, service: str, operation: str, outcome: str, seconds: float) -> None:
        key = (service, operation, outcome)
        index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series()
            series.count += 1
            series.total += seconds
            series.buckets[index] += 1

    def collect(self) -> Iterable[Family]:
        with self._lock:
            snapshot = [
                (key, series.count, series.total, list(series.buckets))
                for key, series in self._series.items()
            ]
        counts: list[str] = []
        histogram: list[str] = []
        name = "iamd_request_duration_seconds"
        for (service, operation, outcome), count, total, buckets in sorted(snapshot):
            labels = (
                f'service="{_escape(service)}",operation="{_escape(operation)}",'
                f'outcome="{_escape(outcome)}"'
            )
            counts.append(f"iamd_requests_total{{{labels}}} {count}")
            cumulative = 0
            for bound, hits in zip(_BUCKET_LABELS, buckets, strict=False):
                cumulative += hits
                histogram.append(f'{name}_bucket{{{labels},le="{bound}"}} {cumulative}')
            histogram.append(f'{name}_bucket{{{labels},le="+Inf"}} {count}')
            histogram.append(f"{name}_sum{{{labels}}} {_number(total)}")
            histogram.append(f"{name}_count{{{labels}}} {count}")
        yield Family(
            "iamd_requests_total",
            "counter",
            "API requests answered, by service, operation and outcome (ok or the error code).",
            (),
            counts,
        )
        yield Family(
            name,
            "histogram",
            "Time from the request's body to its answer, by service, operation and outcome.",
            (),
            histogram,
        )


class LabeledCounter:
    """A counter with one label whose values come from a closed set."""

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...]) -> None:
        self._name = name
        self._help = help_text
        self._labels = labels
        self._lock = threading.Lock()
        self._values: dict[tuple[str, ...], int] = {}

    def inc(self, *values: str) -> None:
        with self._lock:
            self._values[values] = self._values.get(values, 0) + 1

    def value(self, *values: str) -> int:
        with self._lock:
            return self._values.get(values, 0)

    def collect(self) -> Iterable[Family]:
        with self._lock:
            items = sorted(self._values.items())
        yield Family(
            self._name,
            "counter",
            self._help,
            [Sample(tuple(zip(self._labels, key, strict=True)), n) for key, n in items],
        )


class Metrics:
    """Every metric of one server process, and the collectors read at scrape time."""

    def __init__(self) -> None:
        self.requests = RequestMetrics()
        self.authentication_failures = LabeledCounter(
            "iamd_authentication_failures_total",
            "Requests refused before a principal was known, by front (api, ssh) and reason.",
            ("front", "reason"),
        )
        self.sign_ins = LabeledCounter(
            "iamd_sign_ins_total", "Password sign-in attempts by outcome.", ("outcome",)
        )
        self.git_sessions = LabeledCounter(
            "iamd_git_sessions_total",
            "git over SSH sessions ended, by action (codecommit:GitPull, codecommit:GitPush, "
            "- when refused before) and outcome (ok or why not).",
            ("action", "outcome"),
        )
        self._collectors: list[Collector] = [
            self.requests.collect,
            self.authentication_failures.collect,
            self.sign_ins.collect,
            self.git_sessions.collect,
        ]

    def add_collector(self, collector: Collector) -> None:
        self._collectors.append(collector)

    def render(self) -> bytes:
        lines = [
            "# HELP iamd_build_info The running iamd's version.",
            "# TYPE iamd_build_info gauge",
            f'iamd_build_info{{version="{_escape(__version__)}"}} 1',
        ]
        for collector in self._collectors:
            for family in collector():
                lines.append(f"# HELP {family.name} {family.help}")
                lines.append(f"# TYPE {family.name} {family.kind}")
                lines.extend(_sample_line(family.name, sample) for sample in family.samples)
                lines.extend(family.lines)
        return ("\n".join(lines) + "\n").encode()


def gauge(name: str, help_text: str, samples: Iterable[Sample]) -> Family:
    return Family(name, "gauge", help_text, list(samples))


def counter(name: str, help_text: str, samples: Iterable[Sample]) -> Family:
    return Family(name, "counter", help_text, list(samples))


def _sample_line(name: str, sample: Sample) -> str:
    text = ",".join(f'{key}="{_escape(value)}"' for key, value in sample.labels)
    value = _number(sample.value)
    return f"{name}{{{text}}} {value}" if text else f"{name} {value}"


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# `le` label values, formatted once.
_BUCKET_LABELS = tuple(_number(bound) for bound in LATENCY_BUCKETS)
