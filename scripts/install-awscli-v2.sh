#!/usr/bin/env bash
# Installs the real AWS CLI v2 that the Identity Center end-to-end tests drive (`aws sso
# login`, both flows) into .venv/awscli-v2/, once. It comes from PyPI's
# aws-cdk-asset-awscli-v2, which packs an official CLI v2 Linux x86_64 build for Lambda
# layers: wheel -> jsii tarball -> layer.zip -> awscli/v2/<version>/dist/aws. The
# bundle's `awscli/aws` symlink points into the image it was built in, so the tests run
# dist/aws itself; the help examples are stripped, and `help` needs one file back.
# Prints the path of the `aws` binary. Run from the repository's root.
set -euo pipefail

asset_version=2.0.198 # AWS CLI 2.38.5
cli_version=2.38.5
venv=.venv
target="$venv/awscli-v2/$cli_version"
aws="$target/awscli/v2/$cli_version/dist/aws"

if [ -x "$aws" ]; then
  echo "$aws"
  exit 0
fi
work=$(mktemp -d "$venv/awscli-v2-download.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "installing AWS CLI $cli_version (PyPI aws-cdk-asset-awscli-v2==$asset_version) into $target" >&2
"$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
  --only-binary :all: --dest "$work" "aws-cdk-asset-awscli-v2==$asset_version" >&2
"$venv/bin/python" - "$work" "$work/unpacked" <<'PY'
import sys, tarfile, zipfile
from pathlib import Path

work, out = Path(sys.argv[1]), Path(sys.argv[2])
wheel = next(work.glob("aws_cdk_asset_awscli_v2-*.whl"))
with zipfile.ZipFile(wheel) as whl:
    member = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    whl.extract(member, work)
with tarfile.open(work / member) as tgz:
    tgz.extract("package/lib/layer.zip", work, filter="data")
with zipfile.ZipFile(work / "package/lib/layer.zip") as layer:
    for info in layer.infolist():
        path = layer.extract(info, out)
        mode = info.external_attr >> 16
        if mode & 0o111:  # zip keeps the executable bits in the Unix attributes
            Path(path).chmod(0o755)
PY
touch "$work/unpacked/awscli/v2/$cli_version/dist/awscli/examples/global_synopsis.rst"
mkdir -p "$(dirname "$target")"
rm -rf "$target"
mv "$work/unpacked" "$target"
"$aws" --version >&2
echo "$aws"
