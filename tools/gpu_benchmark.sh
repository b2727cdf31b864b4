#!/usr/bin/env bash
# The GPU run kit: one call on a machine with a CUDA device. It installs the carried wheels (.whl/,
# when there, see tools/fetch_device_wheels.sh), runs the CUDA tests (-m gpu), the step benchmark
# with --amp at batch 256 for each pair, and a short end-to-end run; then writes gpu_benchmark.json
# and gpu_benchmark.md (device, versions, tests, stages, figures) and every stage's log to OUT_DIR.
# Each stage runs under a time limit taken from one overall budget (KIT_S), so the kit ends in time
# and reports what finished. See docs/speed.md ("The GPU run kit").
#
#   bash tools/gpu_benchmark.sh [OUT_DIR]                    # default: $OUT if set, else work_dirs/gpu_benchmark
#   bash tools/gpu_benchmark.sh OUT_DIR --device cpu --tiny  # the same stages on a CPU at tiny sizes (a check)
#
# Environment (defaults for a GPU / for --tiny):
#   PYTHON (python3), WHEELS (.whl: the wheels to install, if any), SITE (/tmp/site: where they go),
#   WORK (/tmp/famt_gpu_kit: scratch, removed at the end)
#   KIT_S (430 / 1500): overall budget in seconds; TESTS_S (200 / 600), STEP_S (60 / 300, per pair),
#   E2E_S (90 / 600): the stages' limits within it; SKIP_TESTS=1 skips the tests
#   PAIRS ("mae simmim"): step benchmark pairs; STEP_BATCH (256 / 4), STEP_ITERS (8 / 2)
#   E2E_PAIRS (mae), E2E_IMAGES (1024 / 8), E2E_BATCH (128 / 4), E2E_WORKERS (8 / 0), DATA_ROOT
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
OUT_DIR=${1:-${OUT:-work_dirs/gpu_benchmark}}
shift || true
DEVICE=cuda
TINY=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) DEVICE=${2:-}; shift 2 || shift ;;
    --tiny) TINY=1; shift ;;
    *) echo "gpu_benchmark.sh: unknown option $1 (allowed: --device cpu|cuda, --tiny)" >&2; exit 2 ;;
  esac
done
if [[ "$DEVICE" != cuda && "$DEVICE" != cpu ]]; then
  echo "gpu_benchmark.sh: --device must be cuda or cpu, got '$DEVICE'" >&2; exit 2
fi
for name in KIT_S TESTS_S STEP_S E2E_S STEP_BATCH STEP_ITERS E2E_IMAGES E2E_BATCH E2E_WORKERS; do
  value=${!name:-1}
  if ! [[ "$value" =~ ^[0-9]+$ ]]; then
    echo "gpu_benchmark.sh: $name must be a whole number, got '$value'" >&2; exit 2
  fi
done
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
PY=${PYTHON:-python3}
WORK=${WORK:-/tmp/famt_gpu_kit}
rm -rf "$WORK" && mkdir -p "$WORK"
export PYTHONUNBUFFERED=1
STAGES="$OUT_DIR/stages.tsv"
: > "$STAGES"
START=$SECONDS

if [[ $TINY == 1 ]]; then
  KIT_S=${KIT_S:-1500}; TESTS_S=${TESTS_S:-600}; STEP_S=${STEP_S:-300}; E2E_S=${E2E_S:-600}
  STEP=(--arch deit-tiny --img-size 96 --batch-size "${STEP_BATCH:-4}" --iters "${STEP_ITERS:-2}" --warmup 1)
  E2E=(--tiny --num-images "${E2E_IMAGES:-8}" --batch-size "${E2E_BATCH:-4}" --workers "${E2E_WORKERS:-0}"
       --epochs 2 --loader-images 4)
else
  KIT_S=${KIT_S:-430}; TESTS_S=${TESTS_S:-200}; STEP_S=${STEP_S:-60}; E2E_S=${E2E_S:-90}
  STEP=(--batch-size "${STEP_BATCH:-256}" --iters "${STEP_ITERS:-8}" --warmup 2)
  E2E=(--num-images "${E2E_IMAGES:-1024}" --batch-size "${E2E_BATCH:-128}" --workers "${E2E_WORKERS:-8}"
       --epochs 3 --loader-images 64)
fi
if [[ -n "${DATA_ROOT:-}" ]]; then E2E+=(--data-root "$DATA_ROOT"); fi
AMP=()
if [[ $DEVICE == cuda ]]; then AMP=(--amp); else export CUDA_VISIBLE_DEVICES=; fi

# run_stage NAME LIMIT_S LOG CMD...: the command under min(LIMIT_S, what the budget has left, keeping
# 20 s for the report), its output to LOG and the screen, one line to the stage log; never aborts
run_stage() {
  local name=$1 limit=$2 log=$3; shift 3
  local left=$((KIT_S - (SECONDS - START) - 20))
  if ((left < limit)); then limit=$left; fi
  if ((limit < 10)); then
    echo "== $name: skipped, the kit's budget of $KIT_S s is spent"
    printf '%s\t%s\t%s\t%s\n' "$name" 124 0 "$limit" >> "$STAGES"
    return
  fi
  echo "== $name (at most $limit s)"
  local began=$SECONDS status
  timeout -s INT -k 15 "$limit" "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$((SECONDS - began))" "$limit" >> "$STAGES"
  echo "== $name: exit $status after $((SECONDS - began)) s"
}

WHEELS=${WHEELS:-.whl}
if compgen -G "$WHEELS/*.whl" > /dev/null; then
  SITE=${SITE:-/tmp/site}
  run_stage install 120 "$OUT_DIR/install.log" \
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" "$WHEELS"/*.whl
  export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
fi

if [[ "${SKIP_TESTS:-0}" != 1 ]]; then
  # pytest stops on SIGINT with its summary and the junit file written
  run_stage tests "$TESTS_S" "$OUT_DIR/gpu_tests.log" \
    "$PY" -m pytest tests/test_gpu -m gpu -q -rs --durations=15 -p no:cacheprovider \
    --junitxml "$OUT_DIR/gpu_tests.xml" --basetemp "$WORK/pytest"
fi

files=()
for pair in ${PAIRS:-mae simmim}; do
  out="$OUT_DIR/step_${pair}.json"
  run_stage "step $pair" "$STEP_S" "$OUT_DIR/step_${pair}.log" \
    "$PY" tools/benchmark.py --device "$DEVICE" "${AMP[@]}" "${STEP[@]}" --pairs "$pair" --out "$out"
  if [[ -f "$out" ]]; then files+=("$out"); fi
done

run_stage e2e "$E2E_S" "$OUT_DIR/e2e.log" \
  "$PY" tools/benchmark_e2e.py --device "$DEVICE" "${AMP[@]}" "${E2E[@]}" --pairs ${E2E_PAIRS:-mae} \
  --work-dir "$WORK/e2e" --out "$OUT_DIR/e2e.json"
if [[ -f "$OUT_DIR/e2e.json" ]]; then files+=("$OUT_DIR/e2e.json"); fi

report=(--stages "$STAGES")
if [[ -f "$OUT_DIR/gpu_tests.xml" ]]; then report+=(--tests "$OUT_DIR/gpu_tests.xml"); fi
"$PY" tools/benchmark_report.py "${files[@]}" "${report[@]}" \
  --json "$OUT_DIR/gpu_benchmark.json" --md "$OUT_DIR/gpu_benchmark.md"
status=$?
rm -rf "$WORK"
echo "written: $OUT_DIR/gpu_benchmark.json, $OUT_DIR/gpu_benchmark.md ($((SECONDS - START)) s in all)"
# a failed or stopped stage fails the kit, after the report
if ((status != 0)) || awk -F'\t' '$2 != 0 {bad = 1} END {exit !bad}' "$STAGES"; then exit 1; fi
