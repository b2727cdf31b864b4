#!/usr/bin/env bash
# Runs the tests against an installed, non-editable famt_mm, as a user of the wheel gets it:
#   1. builds a wheel from a copy of the working tree (tracked and untracked, not ignored, files), so the
#      checkout's own famt_mm/.mim (an editable install's link) is left alone;
#   2. checks that the wheel carries every config as package data (famt_mm/.mim/configs);
#   3. installs it with --no-deps into a throwaway folder and runs pytest from a copy of tests/ (and
#      tools/, which tests call as scripts) outside the checkout, with only that folder on PYTHONPATH,
#      after checking that famt_mm and its configs are imported from there.
# The stack (torch, mmengine, mmpretrain, ...) comes from the interpreter's environment; nothing is
# downloaded.
#
#   bash tools/check_installed.sh                 # the tests not marked slow
#   bash tools/check_installed.sh tests/test_configs -m "not slow" -x
#   PYTHON=/path/to/python bash tools/check_installed.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { echo "check_installed: no interpreter at $PY (set PYTHON=...)" >&2; exit 2; }
PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
if [ "$#" -eq 0 ]; then set -- tests -m "not slow"; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/famt_installed.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "[check_installed] building the wheel from a copy of the working tree"
mkdir -p "$WORK/src"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$WORK/src"
(cd "$WORK/src" && "$PY" -m pip wheel --no-deps --no-build-isolation --quiet . -w "$WORK/wheel")
WHEEL=$(ls "$WORK"/wheel/famt_mm-*.whl)

echo "[check_installed] checking the configs in $(basename "$WHEEL")"
"$PY" - "$WHEEL" <<'EOF'
import os
import sys
import zipfile

names = set(zipfile.ZipFile(sys.argv[1]).namelist())
expected = {os.path.join('famt_mm', '.mim', path) for path in (
    os.path.join(root, f) for root, _, files in os.walk('configs') for f in files)
    if path.endswith(('.py', '.yml'))}
missing = sorted(expected - names)
if missing:
    sys.exit(f'the wheel lacks {len(missing)} config files, e.g. {missing[:5]}')
print(f'[check_installed] the wheel carries all {len(expected)} config files under famt_mm/.mim/configs')
EOF

echo "[check_installed] installing it with --no-deps into $WORK/site"
"$PY" -m pip install --no-deps --no-compile --quiet --target "$WORK/site" "$WHEEL"
mkdir -p "$WORK/run"
cp -r tests tools pytest.ini "$WORK/run/"
cd "$WORK/run"
export PYTHONPATH="$WORK/site"
"$PY" - "$WORK/site" <<'EOF'
import os.path as osp
import sys

import famt_mm
from famt_mm.utils.configs import config_root

site = osp.realpath(sys.argv[1])
where = osp.realpath(famt_mm.__file__)
root = osp.realpath(config_root())
if not where.startswith(site + osp.sep):
    sys.exit(f'famt_mm was imported from {where}, not from the installed wheel in {site}')
if root != osp.join(site, 'famt_mm', '.mim', 'configs'):
    sys.exit(f'config_root() is {root}, not the packaged famt_mm/.mim/configs')
print(f'[check_installed] famt_mm {famt_mm.__version__} from {where}; configs from {root}')
EOF
echo "[check_installed] pytest $*"
"$PY" -m pytest "$@"
