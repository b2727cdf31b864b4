#!/usr/bin/env bash
# Brings .venv at the repository root up to date with the pinned stack (see README "Installation").
# Idempotent: when the stamp matches this script, setup.py and a passing import check, it returns in seconds.
# The slow step is mmcv 2.1.0 with compiled ops (no wheels exist on PyPI): 18-25 min on 2 cores the first
# time, seconds afterwards because pip caches the built wheel.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.famt_mm_stamp"

TORCH_VERSION=2.13.0
TORCHVISION_VERSION=0.28.0
MMCV_VERSION=2.1.0

want_stamp=$(cat "$ROOT/tools/setup_env.sh" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1)

import_check() {
  "$PY" - <<'PY'
import torch, torchvision.ops  # noqa: F401  (fails when torch and torchvision do not pair)
from mmcv.ops import nms, RoIAlign  # noqa: F401  (mmcv built without ops lacks these)
import mmengine, mmpretrain.models, mmdet.models, mmseg.models  # noqa: F401
import famt_mm  # noqa: F401
PY
}

if [[ -x "$PY" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]] && import_check 2>/dev/null; then
  echo "[setup] .venv is up to date"
  exit 0
fi

if [[ ! -x "$PY" ]]; then
  echo "[setup] creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$PY" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

# torch + torchvision from the package index only: a machine-local find-links folder may hold a CPU-only
# torch that pip prefers, and the index's torchvision does not run with it ("operator torchvision::nms does
# not exist").
have_torch=$("$PY" -c 'import torch, torchvision; print(torch.__version__.split("+")[0], torchvision.__version__.split("+")[0])' 2>/dev/null || true)
if [[ "$have_torch" != "$TORCH_VERSION $TORCHVISION_VERSION" ]] || ! "$PY" -c 'import torchvision.ops' 2>/dev/null; then
  echo "[setup] installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION from the package index"
  env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "${PIP[@]}" install -q \
    "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi
if ! err=$("$PY" -c 'import torchvision.ops' 2>&1); then
  echo "[setup] ERROR: torch and torchvision do not import together:" >&2
  echo "$err" | tail -n 3 >&2
  echo "[setup] torchvision==$TORCHVISION_VERSION needs the package index's torch==$TORCH_VERSION build;" \
       "a CPU-only torch from a local wheel folder does not pair with it. Remove .venv and run again." >&2
  exit 1
fi

# mmcv: full build with ops (mmdet needs nms / RoIAlign). Its setup.py imports pkg_resources, gone from
# setuptools >= 70; no build isolation, or pip would pull a second torch into the build environment.
if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
  echo "[setup] building mmcv==$MMCV_VERSION with ops (first time 18-25 min on 2 cores; cached afterwards)"
  "${PIP[@]}" install -q "setuptools<70" wheel ninja
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} "${PIP[@]}" install -q --no-build-isolation "mmcv==$MMCV_VERSION"
fi
# torch 2.13 asks for setuptools >= 77.0.3; mmengine 0.10.7 still imports pkg_resources (gone in 81).
"${PIP[@]}" install -q "setuptools>=77.0.3,<81"

echo "[setup] installing famt_mm (editable) with the OpenMMLab stack and test dependencies"
"${PIP[@]}" install -q -e "$ROOT[tests]"

if ! import_check; then
  echo "[setup] ERROR: the import check failed (see above)." >&2
  exit 1
fi
echo "$want_stamp" > "$STAMP"
echo "[setup] done: $("$PY" -c 'import torch, mmcv, mmpretrain, mmdet, mmseg; print("torch", torch.__version__, "mmcv", mmcv.__version__, "mmpretrain", mmpretrain.__version__, "mmdet", mmdet.__version__, "mmseg", mmseg.__version__)')"
