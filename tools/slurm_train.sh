#!/usr/bin/env bash
# Training on a Slurm cluster through srun and mmengine's 'slurm' launcher, with mmpretrain's arguments:
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py arguments ...]
# Environment: GPUS (8, all tasks), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS (extra srun options),
# PYTHON (the interpreter). Without WORK_DIR, mmengine's default work_dirs/<config name> is used. Runs from
# the caller's working directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_launch_env.sh"
need_args 3 "PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py arguments ...]" "$@"
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
WORK_DIR_ARGS=()
if [[ $# -gt 0 && "$1" != -* ]]; then  # the optional WORK_DIR; train.py's own options start with '-'
  WORK_DIR_ARGS=(--work-dir "$1")
  shift
fi
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
read -r -a SRUN_EXTRA <<< "${SRUN_ARGS:-}"
exec srun -p "$PARTITION" \
  --job-name="$JOB_NAME" \
  --gres=gpu:"$GPUS_PER_NODE" \
  --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" \
  --cpus-per-task="$CPUS_PER_TASK" \
  --kill-on-bad-exit=1 \
  "${SRUN_EXTRA[@]}" \
  "$PYTHON" -u "$TOOLS/train.py" "$CONFIG" "${WORK_DIR_ARGS[@]}" --launcher slurm "$@"
