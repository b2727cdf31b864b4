#!/usr/bin/env bash
# The main job on its embedded default: brings .venv up to date with the light stack (no compiled mmcv ops,
# no mmdet / mmseg; an up-to-date full stack is kept as it is), then pretrains FAMT-MAE on the digits demo
# and reports the linear-probe accuracy, then draws the maps, plans and reconstructions of three held-out
# digits with the trained model. Extra arguments go to tools/train.py (e.g. --cfg-options ...).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup_env.sh light
# On cores that other jobs already keep busy, torch's OpenMP threads spin-wait for each other: the demo's
# tiny steps then ran 12x slower with 2 threads than with 1 (7.1 s against 0.58 s a step at a load average
# of 9 on 2 cores). One thread when the machine is busy, torch's default otherwise; OMP_NUM_THREADS wins.
if [[ -z "${OMP_NUM_THREADS:-}" ]] && awk -v cores="$(nproc)" '{ exit !($1 >= cores) }' /proc/loadavg 2>/dev/null; then
  echo "[demo] the machine is busy (load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores): one thread"
  export OMP_NUM_THREADS=1
fi
CONFIG=configs/famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py
WORK_DIR=work_dirs/famt-mae_vit-tiny-p4_1xb64-60e_digits
.venv/bin/python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
FIGURES="$WORK_DIR/figures"
.venv/bin/python tools/visualize.py "$CONFIG" --checkpoint "$(cat "$WORK_DIR/last_checkpoint")" \
  --digits 0 1 2 --out-dir "$FIGURES"
echo "[demo] linear probe: $WORK_DIR/linear_probe.json; maps, plans and reconstructions: $FIGURES"
