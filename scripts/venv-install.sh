#!/usr/bin/env bash
# Installs requirements into .venv (`venv-install.sh -e .`, `-e '.[test]'`), creating it
# first. The Makefile's stamps call it; run from the repository's root.
#
# The installer is uv, which the interpreter's own pip puts into the venv: uv resolves
# and installs the server's 26 packages in about a second from its cache, where pip
# takes some ten seconds of CPU reading every release of every package off the index.
# Where uv cannot be had (no wheel for this platform) or fails, pip does the install.
# COMPILE=1 byte-compiles what is installed (the test stamp: the suite starts hundreds of
# servers, which then never compile site-packages, even with PYTHONDONTWRITEBYTECODE).
set -euo pipefail

python=${PYTHON:-python3}
venv=.venv
uv_requirement='uv>=0.9,<1'

# pip for the venv: its own if it has one, else the interpreter's (pip 22.3 and later
# install into another environment with --python), else one that ensurepip puts in.
pip_for_venv() {
  if [ -x "$venv/bin/pip" ]; then
    "$venv/bin/python" -m pip "$@"
  elif "$python" -m pip --python "$venv/bin/python" "$@"; then
    :
  elif "$python" -c 'import sys, pip
sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (22, 3))' 2>/dev/null; then
    return 1 # that pip could have installed: the install itself failed
  else
    echo "installing pip into $venv, then trying again" >&2
    "$venv/bin/python" -m ensurepip --default-pip >/dev/null
    "$venv/bin/python" -m pip "$@"
  fi
}

if [ ! -x "$venv/bin/python" ]; then
  # No pip inside: ensurepip would cost five seconds, and nothing here needs it.
  "$python" -m venv --without-pip "$venv"
fi

if [ ! -x "$venv/bin/uv" ]; then
  # --only-binary: on a platform without a uv wheel, fail at once instead of
  # compiling uv from source; pip then does the install below.
  pip_for_venv install --quiet --disable-pip-version-check --no-compile \
    --only-binary :all: "$uv_requirement" || echo "uv could not be installed; installing with pip" >&2
fi

uv_compile='' pip_compile=--no-compile
if [ "${COMPILE:-0}" = 1 ]; then uv_compile=--compile-bytecode pip_compile=''; fi

if [ -x "$venv/bin/uv" ]; then
  if "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" $uv_compile "$@"; then
    exit 0
  fi
  echo "uv pip install failed; trying pip" >&2
fi
# Without COMPILE, --no-compile: byte-compiling every installed module costs a third of
# pip's CPU time; Python compiles the modules the server imports on its first start.
pip_for_venv install --quiet --disable-pip-version-check $pip_compile "$@"
