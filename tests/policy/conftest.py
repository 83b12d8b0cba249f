"""Shared helpers for the policy engine tests: loading the decision-vector corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parent / "corpus"


def load_corpus() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = []
    for path in sorted(CORPUS.glob("*.json")):
        for vector in json.loads(path.read_text()):
            vector["file"] = path.stem
            vectors.append(vector)
    return vectors
