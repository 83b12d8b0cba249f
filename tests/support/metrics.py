"""Reading Prometheus text as a scraper would: samples by name and label set."""

from __future__ import annotations

import re

_LINE = re.compile(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Samples:
    samples: Samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        found = _LINE.match(line)
        assert found is not None, line
        labels = frozenset(_LABEL.findall(found.group(2) or ""))
        samples[(found.group(1), labels)] = float(found.group(3))
    return samples


def metric_value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)
