"""`iamd policy check FILE...`: validate policy files offline.

The files go through the same engine the server uses on every write, and the security
warnings of `iamd.policy.findings` are added for valid but dangerous statements. Every
problem is printed as `FILE:LINE:COL: error|warning: message`, the form editors and CI
annotate; one summary line (OK or FAILED, with the counts) goes to stderr. Exit status
1 when a file has an error (with --strict, also a warning).
"""

from __future__ import annotations

from pathlib import Path

import click

from iamd.policy import PolicyKind, Position, check_policy
from iamd.policy.findings import security_findings

_KINDS = ("identity", "resource", "trust", "boundary", "scp")


@click.command(name="check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(_KINDS),
    default="identity",
    show_default=True,
    help="What the documents are: identity (user/group) policies, resource policies, "
    "role trust policies, permissions boundaries, or service control policies (scp: "
    "at most 5120 characters, white space included).",
)
@click.option(
    "--max-size",
    type=click.IntRange(min=1),
    default=None,
    help="Also report documents larger than this many non-whitespace characters "
    "(6144 for managed policies).",
)
@click.option("--strict", is_flag=True, help="Exit with status 1 on warnings too.")
def check(files: tuple[Path, ...], kind: str, max_size: int | None, strict: bool) -> None:
    """Validate policy FILES; print every error and security warning."""
    errors = warnings = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            click.echo(f"{path}: error: cannot read the file: {exc}")
            errors += 1
            continue
        lines: list[tuple[Position, str]] = []
        for problem in check_policy(text, PolicyKind(kind), max_size=max_size):
            lines.append((problem.start or Position(1, 1), f"error: {problem.message}"))
            errors += 1
        for finding in security_findings(text):
            lines.append((finding.start, f"warning: {finding.message}"))
            warnings += 1
        for position, message in sorted(lines, key=lambda line: (line[0].line, line[0].column)):
            click.echo(f"{path}:{position.line}:{position.column}: {message}")
    failed = bool(errors or (strict and warnings))
    # On stderr: stdout stays FILE:LINE:COL lines only, for editors and CI annotations.
    click.echo(
        f"{'FAILED' if failed else 'OK'}: {_summary(len(files), kind, errors, warnings)}", err=True
    )
    if failed:
        raise SystemExit(1)


def _summary(files: int, kind: str, errors: int, warnings: int) -> str:
    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return (
        f"{count(files, 'file')} checked as {kind} policies, "
        f"{count(errors, 'error')}, {count(warnings, 'warning')}"
    )
