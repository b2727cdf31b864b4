#!/usr/bin/env bash
# The GPU run kit: the step benchmark with --amp at batch 128 and 256 for both pairs, the end-to-end
# benchmark, and one JSON + one markdown table of all of them. See docs/speed.md ("GPU run kit").
#
#   bash tools/gpu_benchmark.sh [OUT_DIR]                  # on a GPU machine (defaults: work_dirs/gpu_benchmark)
#   bash tools/gpu_benchmark.sh OUT_DIR --device cpu --tiny  # the same steps on a CPU at tiny sizes (a check)
#
# Environment: PYTHON (default python), PAIRS (default "mae simmim"), E2E_IMAGES (images of the
# generated folder, default 2048), E2E_BATCH (default 128), E2E_WORKERS (default 8), DATA_ROOT (train
# on this folder instead of generated images).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:-work_dirs/gpu_benchmark}
shift || true
PY=${PYTHON:-python}
PAIRS=${PAIRS:-mae simmim}
DEVICE=cuda
TINY=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) DEVICE=$2; shift 2 ;;
    --tiny) TINY=1; shift ;;
    *) echo "gpu_benchmark.sh: unknown option $1 (allowed: --device cpu|cuda, --tiny)" >&2; exit 2 ;;
  esac
done
if [[ "$DEVICE" != cuda && "$DEVICE" != cpu ]]; then
  echo "gpu_benchmark.sh: --device must be cuda or cpu, got $DEVICE" >&2; exit 2
fi
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

if [[ $TINY == 1 ]]; then
  STEP=(--arch deit-tiny --img-size 96 --iters 2 --warmup 1)  # 96: 3 x 3 SimMIM units
  BATCHES=(4 8)
  E2E=(--tiny --num-images "${E2E_IMAGES:-16}" --batch-size "${E2E_BATCH:-4}" --workers "${E2E_WORKERS:-0}"
       --epochs 2 --loader-images 4)
else
  STEP=(--iters 20 --warmup 5)
  BATCHES=(128 256)
  E2E=(--num-images "${E2E_IMAGES:-2048}" --batch-size "${E2E_BATCH:-128}" --workers "${E2E_WORKERS:-8}"
       --epochs 3 --loader-images 64)
fi
if [[ -n "${DATA_ROOT:-}" ]]; then E2E+=(--data-root "$DATA_ROOT"); fi
AMP=()
if [[ $DEVICE == cuda ]]; then AMP=(--amp); fi
if [[ $DEVICE == cpu ]]; then export CUDA_VISIBLE_DEVICES=; fi

files=()
for b in "${BATCHES[@]}"; do
  echo "== step benchmark, batch $b =="
  $PY tools/benchmark.py --device "$DEVICE" "${AMP[@]}" "${STEP[@]}" --batch-size "$b" \
    --pairs $PAIRS --out "$OUT/step_b$b.json" 2>&1 | tee "$OUT/step_b$b.log"
  files+=("$OUT/step_b$b.json")
done
echo "== end-to-end benchmark =="
$PY tools/benchmark_e2e.py --device "$DEVICE" "${AMP[@]}" "${E2E[@]}" --pairs $PAIRS \
  --work-dir "$OUT/e2e_runs" --out "$OUT/e2e.json" 2>&1 | tee "$OUT/e2e.log"
files+=("$OUT/e2e.json")
$PY tools/benchmark_report.py "${files[@]}" --json "$OUT/gpu_benchmark.json" --md "$OUT/gpu_benchmark.md"
echo "written: $OUT/gpu_benchmark.json, $OUT/gpu_benchmark.md"
