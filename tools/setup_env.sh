#!/usr/bin/env bash
# Brings a virtual environment at the repository root up to date with a tested stack (README "Installation"):
#
#   bash tools/setup_env.sh [light]  .venv: torch, torchvision, mmcv-lite, mmengine, mmpretrain, famt_mm[demo];
#                                    pretraining, the demo and the tools (no compiled mmcv ops, no mmdet/mmseg).
#                                    An up-to-date `full` stack satisfies it as it is: nothing is downgraded.
#   bash tools/setup_env.sh full     .venv: the same with mmcv built with its ops (replacing mmcv-lite), mmdet,
#                                    mmsegmentation and famt_mm[all,tests]; what the test suite needs.
#   bash tools/setup_env.sh classic  .venv-classic: the stack of OpenMMLab's install guide (torch 2.1,
#                                    numpy < 2, mmcv-lite) and famt_mm[tests], for the pretraining tests.
#
# Versions come from requirements/constraints.txt (light, full) and requirements/constraints-classic.txt
# (classic); this script holds none. Each mode is idempotent with its own stamp: when the stamp matches this
# script, setup.py and requirements/*.txt and the mode's import check passes, it returns in seconds.
# The slow step is `full`'s first build of mmcv with ops (no wheels on PyPI): 18-25 min on 2 cores, then
# seconds, because pip caches the built wheel.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
MODE=${1:-light}

case "$MODE" in
  light) VENV="$ROOT/.venv"; CONSTRAINTS=requirements/constraints.txt; EXTRAS=demo ;;
  full) VENV="$ROOT/.venv"; CONSTRAINTS=requirements/constraints.txt; EXTRAS=all,tests ;;
  classic) VENV="$ROOT/.venv-classic"; CONSTRAINTS=requirements/constraints-classic.txt; EXTRAS=tests ;;
  *) echo "[setup] ERROR: unknown mode '$MODE'; use one of: light (default), full, classic" >&2; exit 2 ;;
esac
PY="$VENV/bin/python"

# pin NAME: the version that $CONSTRAINTS pins NAME to (a line `NAME==VERSION`)
pin() {
  local version
  version=$(sed -n -E "s/^$1==([^[:space:]#;]+).*/\1/p" "$CONSTRAINTS" | head -n 1)
  if [[ -z "$version" ]]; then
    echo "[setup] ERROR: $CONSTRAINTS has no line '$1==VERSION'" >&2
    exit 1
  fi
  echo "$version"
}
TORCH_VERSION=$(pin torch)
TORCHVISION_VERSION=$(pin torchvision)
if [[ "$MODE" == full ]]; then MMCV_DIST=mmcv; else MMCV_DIST=mmcv-lite; fi
MMCV_VERSION=$(pin "$MMCV_DIST")

want_stamp=$(cat tools/setup_env.sh setup.py requirements/*.txt | sha256sum | cut -d' ' -f1)
stamp() { echo "$VENV/.famt_mm_stamp_$1"; }
stamp_ok() { [[ -f "$(stamp "$1")" && "$(cat "$(stamp "$1")")" == "$want_stamp" ]]; }

# import_check MODE: what the mode promises. The light check also passes on the full stack (mmcv with ops is
# a superset of mmcv-lite), which is what lets the demo run after the tests without changing anything.
import_check() {
  WANT_MMCV="$MMCV_VERSION" CHECK_MODE="$1" "$PY" - <<'PY'
import os
import sys
import torch, torchvision.ops  # noqa: F401  (fails when torch and torchvision do not pair)
import mmcv
if mmcv.__version__ != os.environ['WANT_MMCV']:
    sys.exit(f'mmcv is {mmcv.__version__}, want {os.environ["WANT_MMCV"]}')
import mmengine, mmpretrain.models, sklearn  # noqa: F401,E401
import famt_mm  # noqa: F401
if os.environ['CHECK_MODE'] == 'full':
    from mmcv.ops import nms, RoIAlign  # noqa: F401  (mmcv-lite or mmcv built without ops lacks these)
    import mmdet.models, mmseg.models  # noqa: F401,E401
PY
}

if [[ -x "$PY" ]]; then
  if { stamp_ok "$MODE" || { [[ "$MODE" == light ]] && stamp_ok full; }; } && import_check "$MODE" 2>/dev/null; then
    echo "[setup] $(basename "$VENV") is up to date ($MODE)"
    exit 0
  fi
else
  echo "[setup] creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
  "$PY" -m pip --disable-pip-version-check install -q --upgrade pip
fi
PIP=("$PY" -m pip --disable-pip-version-check)
# --no-compile: pip would byte-compile every module of torch and its CUDA packages at install time (minutes
# of CPU on 2 cores); Python compiles the few that are imported on first use instead.
INSTALL=(install -q --no-compile)
# dist_version NAME: the installed version of a distribution, empty when it is not installed
dist_version() {
  "$PY" -c "import importlib.metadata as m, sys
try: print(m.version(sys.argv[1]))
except m.PackageNotFoundError: pass" "$1"
}

# torch + torchvision from the package index only: a machine-local find-links folder may hold a CPU-only
# torch that pip prefers, and the index's torchvision does not run with it ("operator torchvision::nms does
# not exist"). A torch that carries the right version but does not pair is uninstalled first, or pip would
# keep it (a local build such as 2.13.0+cpu satisfies a pin to 2.13.0).
have_torch=$("$PY" -c 'import torch, torchvision; print(torch.__version__.split("+")[0], torchvision.__version__.split("+")[0])' 2>/dev/null || true)
if [[ "$have_torch" != "$TORCH_VERSION $TORCHVISION_VERSION" ]] || ! "$PY" -c 'import torchvision.ops' 2>/dev/null; then
  echo "[setup] installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION from the package index"
  if [[ -n "$have_torch" ]]; then "${PIP[@]}" uninstall -q -y torch torchvision; fi
  env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "${PIP[@]}" "${INSTALL[@]}" -c "$CONSTRAINTS" \
    "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi
if ! err=$("$PY" -c 'import torchvision.ops' 2>&1); then
  echo "[setup] ERROR: torch and torchvision do not import together:" >&2
  echo "$err" | tail -n 3 >&2
  echo "[setup] torchvision==$TORCHVISION_VERSION needs the package index's torch==$TORCH_VERSION build;" \
       "a CPU-only torch from a local wheel folder does not pair with it. Remove $(basename "$VENV") and" \
       "run again." >&2
  exit 1
fi

# mmcv: mmcv-lite and mmcv install the same `mmcv` folder, so one is uninstalled before the other goes in.
mmcv_ok() { "$PY" -c "import mmcv; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; }
EXTRA_REQS=()
if [[ "$MODE" == full ]]; then
  if [[ -n "$(dist_version mmcv-lite)" ]]; then
    echo "[setup] replacing mmcv-lite by mmcv with ops"
    "${PIP[@]}" uninstall -q -y mmcv-lite
    # had both been installed, the uninstall took files of mmcv's too: reinstall it below
    if [[ -n "$(dist_version mmcv)" ]] && ! "$PY" -c 'import mmcv.ops' 2>/dev/null; then
      "${PIP[@]}" uninstall -q -y mmcv
    fi
  fi
  if ! mmcv_ok || ! "$PY" -c 'import mmcv.ops' 2>/dev/null; then
    # mmcv's setup.py imports pkg_resources in a way setuptools >= 70 breaks; no build isolation, or pip
    # would pull a second torch into the build environment.
    echo "[setup] building mmcv==$MMCV_VERSION with ops (first time 18-25 min on 2 cores; cached afterwards)"
    "${PIP[@]}" install -q "setuptools<70" wheel ninja
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} "${PIP[@]}" "${INSTALL[@]}" --no-build-isolation "mmcv==$MMCV_VERSION"
  fi
elif ! mmcv_ok; then
  # light / classic: any mmcv of the right version will do (the full stack's included); else mmcv-lite
  if [[ -n "$(dist_version mmcv)" ]]; then "${PIP[@]}" uninstall -q -y mmcv; fi
  if [[ -n "$(dist_version mmcv-lite)" ]]; then "${PIP[@]}" uninstall -q -y mmcv-lite; fi
  EXTRA_REQS+=("mmcv-lite==$MMCV_VERSION")
fi

# Everything else in one resolve, held to the tested versions by the constraints file (which also brings
# setuptools back into the range torch and mmengine need after the mmcv build).
echo "[setup] installing famt_mm[$EXTRAS] (editable) with the rest of the stack ($CONSTRAINTS)"
"${PIP[@]}" "${INSTALL[@]}" -c "$CONSTRAINTS" setuptools "${EXTRA_REQS[@]}" -e "$ROOT[$EXTRAS]"

if ! import_check "$MODE"; then
  echo "[setup] ERROR: the import check of mode '$MODE' failed (see above)." >&2
  exit 1
fi
echo "$want_stamp" > "$(stamp "$MODE")"
echo "[setup] done ($MODE): $("$PY" -c 'import importlib.metadata as m
names = ("torch", "torchvision", "numpy", "mmcv", "mmcv-lite", "mmengine", "mmpretrain", "mmdet", "mmsegmentation")
def v(n):
    try: return m.version(n)
    except m.PackageNotFoundError: return None
print(", ".join(f"{n} {v(n)}" for n in names if v(n)))')"
