#!/usr/bin/env bash
# The main job on its embedded default: sets up .venv, then pretrains FAMT-MAE on the digits demo and
# reports the linear-probe accuracy. Extra arguments go to tools/train.py (e.g. --work-dir DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup_env.sh
WORK_DIR=work_dirs/demo_mae_vit-tiny_digits
.venv/bin/python tools/train.py configs/famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py --work-dir "$WORK_DIR" "$@"
