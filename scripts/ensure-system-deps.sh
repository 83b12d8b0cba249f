#!/usr/bin/env bash
# Installs the Debian packages the test suite drives, only when they are missing, so a
# fresh machine (CI included) gets them and an equipped one pays nothing. It says what
# it installs before it does, and installs nothing without root: it then prints the
# command to run.
set -euo pipefail

need=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then need+=(postgresql); fi
command -v git >/dev/null 2>&1 || need+=(git)
# The ssh-login e2e test runs its own sshd and logs in with the real client.
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
# The systemd unit test checks packaging/iamd.service with systemd-analyze.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# The SAML tests' identity provider (pysaml2) signs its responses with xmlsec1.
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
# The AssumeRoleWithWebIdentity tests run npm's oidc-provider (scripts/ensure-node-deps.sh).
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
# The sign-in pages' browser tests: Playwright drives Debian's Chromium.
[ -x /usr/bin/chromium ] || need+=(chromium)

if ((${#need[@]} == 0)); then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "the tests need these system packages, missing here: ${need[*]}" >&2
  echo "install them, then run make test again:" >&2
  echo "  sudo apt-get install --no-install-recommends ${need[*]}" >&2
  exit 1
fi
echo "installing the system packages the tests need: ${need[*]} (apt-get update, then apt-get install --no-install-recommends)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-upgrade: a package that is there already is left as it is.
apt-get install -y -qq --no-install-recommends --no-upgrade "${need[@]}" >/dev/null
echo "installed: ${need[*]}" >&2
