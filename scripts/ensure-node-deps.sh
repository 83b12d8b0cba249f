#!/usr/bin/env bash
# Installs the npm packages the tests run (the OpenID Connect provider of the
# AssumeRoleWithWebIdentity tests, tests/support/node_oidc) exactly as the project's
# lockfile pins them, only when they are missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/support/node_oidc
stamp=$dir/node_modules/.iamd-installed
if [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "the tests need Node.js and npm (make system-deps installs them)" >&2
  exit 1
fi
echo "installing the test OpenID Connect provider's npm packages ($dir, npm ci)" >&2
# --ignore-scripts: no package runs code at install time.
(cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
touch "$stamp"
