#!/usr/bin/env bash
# The main job on its embedded default: brings .venv up to date with the light stack (no compiled mmcv ops,
# no mmdet / mmseg; an up-to-date full stack is kept as it is), then pretrains FAMT-MAE on the digits demo
# and reports the linear-probe accuracy. Extra arguments go to tools/train.py (e.g. --work-dir DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup_env.sh light
WORK_DIR=work_dirs/demo_mae_vit-tiny_digits
.venv/bin/python tools/train.py configs/famt/demo_mae_vit-tiny_digits.py --work-dir "$WORK_DIR" "$@"
