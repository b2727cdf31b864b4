#!/usr/bin/env bash
# Distributed testing through torchrun and mmengine's 'pytorch' launcher, with mmpretrain's arguments:
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py arguments ...]
# Runs from the caller's working directory. Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on
# every node. PYTHON picks the interpreter.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_launch_env.sh"
need_args 3 "CONFIG CHECKPOINT GPUS [test.py arguments ...]" "$@"
CONFIG=$1 CHECKPOINT=$2 GPUS=$3
shift 3
torchrun_tool "$GPUS" test.py "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
