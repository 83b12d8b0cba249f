# The README's two set-up commands are `make serve` and `make test`; both work on a
# fresh machine: they create .venv and install what is missing first. `make serve`
# installs only the server (its stamp); the tests' and linters' tools come with the
# test stamp, so running a server never waits for them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVER_STAMP := $(VENV)/.server-stamp
TEST_STAMP := $(VENV)/.test-stamp
# Extra options for `make serve`, e.g. IAMD_ARGS='--no-git-ssh --log-level DEBUG'.
IAMD_ARGS ?=

.PHONY: serve test lint typecheck format system-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --no-compile: byte-compiling every installed module costs a third of the install's
# CPU time; Python compiles the modules the server imports on its first start anyway.
$(SERVER_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-compile -e .
	touch $(SERVER_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(SERVER_STAMP) $(TEST_STAMP)

serve: $(SERVER_STAMP)
	$(BIN)/iamd serve $(IAMD_ARGS)

# System packages the end-to-end tests drive (PostgreSQL, OpenSSH, git): the script
# names the missing ones before installing them, and needs root only then.
system-deps:
	bash scripts/ensure-system-deps.sh

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

format: $(TEST_STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: $(TEST_STAMP) system-deps lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
