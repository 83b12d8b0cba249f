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

.PHONY: serve test lint typecheck format system-deps node-deps awscli-v2 bench clean

# scripts/venv-install.sh creates .venv (without pip of its own) and installs with uv,
# or with pip where uv cannot be had.
$(SERVER_STAMP): pyproject.toml scripts/venv-install.sh
	PYTHON=$(PYTHON) bash scripts/venv-install.sh -e .
	touch $(SERVER_STAMP)

$(TEST_STAMP): pyproject.toml scripts/venv-install.sh
	PYTHON=$(PYTHON) COMPILE=1 bash scripts/venv-install.sh -e '.[test]'
	touch $(SERVER_STAMP) $(TEST_STAMP)

serve: $(SERVER_STAMP)
	$(BIN)/iamd serve $(IAMD_ARGS)

# System packages the end-to-end tests drive (PostgreSQL, OpenSSH, git): the script
# names the missing ones before installing them, and needs root only then.
system-deps:
	bash scripts/ensure-system-deps.sh

# npm packages the end-to-end tests run (the test OpenID Connect provider), from the
# project's lockfile.
node-deps: system-deps
	bash scripts/ensure-node-deps.sh

# The real AWS CLI v2 (PyPI aws-cdk-asset-awscli-v2) that the Identity Center tests
# drive, unpacked into .venv/awscli-v2 once.
awscli-v2: $(TEST_STAMP)
	bash scripts/install-awscli-v2.sh >/dev/null

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

format: $(TEST_STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: $(TEST_STAMP) system-deps node-deps awscli-v2 lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(TEST_STAMP)
	PYTHON=$(PYTHON) bash scripts/venv-install.sh -e '.[bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
