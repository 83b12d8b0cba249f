"""Decision vectors drawn from AWS's documented examples, run through the whole engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamd.policy import (
    CompiledPolicy,
    Effect,
    PolicyKind,
    PrincipalInfo,
    RequestContext,
    compile_policy,
    evaluate,
    evaluate_trust,
)
from iamd.policy.conditions import OPERATORS, parse_operator_name

from .conftest import load_corpus

VECTORS = load_corpus()
KINDS = {
    "identity": PolicyKind.IDENTITY,
    "boundary": PolicyKind.BOUNDARY,
    "session": PolicyKind.SESSION,
    "resource": PolicyKind.RESOURCE,
    "trust": PolicyKind.TRUST,
}


def _compiled(vector: dict[str, Any], kind: str) -> list[CompiledPolicy] | None:
    documents = vector["policies"].get(kind)
    if documents is None:
        return None
    out = []
    for index, document in enumerate(documents):
        policy = compile_policy(json.dumps(document, indent=2), KINDS[kind], f"{kind}:{index}")
        assert policy.valid, policy.problems
        out.append(policy)
    return out


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{v['file']}: {v['name']}" for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    request = vector["request"]
    context = RequestContext(request["action"], request["resource"], request["context"])
    trust = _compiled(vector, "trust")
    if trust is not None:
        p = request["principal"]
        principal = PrincipalInfo(p["arn"], p["account"], p.get("unique_id"), p.get("kind", "AWS"))
        decision = evaluate_trust(context, trust[0], principal)
    else:
        decision = evaluate(
            context,
            _compiled(vector, "identity") or [],
            boundary=_compiled(vector, "boundary"),
            session=_compiled(vector, "session"),
            resource=_compiled(vector, "resource") or (),
            principal_arn_for_resource_policies=request.get("principal"),
        )
    expect = vector["expect"]
    assert decision.effect is Effect(expect["decision"])
    got = sorted((ref.source_id, ref.sid or "", ref.index) for ref in decision.matched)
    want = sorted(
        (f"{m['kind']}:{m['policy']}", m["sid"] or "", m["index"]) for m in expect["matched"]
    )
    assert got == want


def _operators_used() -> set[str]:
    used: set[str] = set()
    for vector in VECTORS:
        for documents in vector["policies"].values():
            for document in documents:
                statements = document["Statement"]
                if isinstance(statements, dict):
                    statements = [statements]
                for statement in statements:
                    used.update(statement.get("Condition", {}))
    return used


def test_corpus_is_large_enough() -> None:
    assert len(VECTORS) >= 300
    assert all(v["source"] for v in VECTORS)
    names = [(v["file"], v["name"]) for v in VECTORS]
    assert len(names) == len(set(names))


def test_every_operator_and_qualifier_is_in_the_corpus() -> None:
    used = _operators_used()
    parsed = [p for p in (parse_operator_name(name) for name in used) if p is not None]
    bases = {p.base for p in parsed}
    assert set(OPERATORS) | {"Null"} <= bases
    if_exists = {p.base for p in parsed if p.if_exists}
    assert set(OPERATORS) <= if_exists
    assert {"ForAllValues", "ForAnyValue"} <= {p.qualifier for p in parsed}


def test_every_decision_kind_is_in_the_corpus() -> None:
    decisions = {v["expect"]["decision"] for v in VECTORS}
    assert decisions == {"allowed", "explicitDeny", "implicitDeny"}
    kinds = {kind for v in VECTORS for kind in v["policies"]}
    assert kinds == set(KINDS)
