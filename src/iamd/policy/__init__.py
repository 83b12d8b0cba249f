"""The IAM policy engine: parse → validate → compile → evaluate.

Pure: no I/O, no clock, nothing else of iamd. `check_policy` returns every problem of a
document (write path); `compile_policy` prepares a document for evaluation and never
raises (a broken document fails closed, see `compiled`); `evaluate` / `evaluate_trust`
decide requests; `context_keys_of` lists the context keys policies use.
"""

from __future__ import annotations

from iamd.policy.compiled import (
    CompiledPolicy,
    CompiledStatement,
    PrincipalInfo,
    StatementRef,
    compile_policy,
)
from iamd.policy.context import RequestContext
from iamd.policy.document import SCP_MAX_SIZE, PolicyKind, Problem, analyse
from iamd.policy.evaluate import Decision, Effect, context_keys_of, evaluate, evaluate_trust
from iamd.policy.jsonscan import Position


def check_policy(text: str, kind: PolicyKind, *, max_size: int | None = None) -> list[Problem]:
    """Every problem of `text` as a policy of `kind`; empty when it may be stored.

    Never raises: anything unexpected is reported as a syntax error.
    """
    try:
        return analyse(text, kind, max_size=max_size)[1]
    except Exception:  # a checker bug must not let a document through, nor crash the caller
        return [Problem("Syntax errors in policy.", None, None, "error")]


__all__ = [
    "SCP_MAX_SIZE",
    "CompiledPolicy",
    "CompiledStatement",
    "Decision",
    "Effect",
    "PolicyKind",
    "Position",
    "PrincipalInfo",
    "Problem",
    "RequestContext",
    "StatementRef",
    "check_policy",
    "compile_policy",
    "context_keys_of",
    "evaluate",
    "evaluate_trust",
]
