#!/usr/bin/env bash
# Distributed training through torchrun and mmengine's 'pytorch' launcher, with mmpretrain's arguments:
#   bash tools/dist_train.sh CONFIG GPUS [train.py arguments ...]
# Runs from the caller's working directory, so relative config and --work-dir paths mean what they say.
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on every node. PYTHON picks the interpreter.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_launch_env.sh"
need_args 2 "CONFIG GPUS [train.py arguments ...]" "$@"
CONFIG=$1
GPUS=$2
shift 2
torchrun_tool "$GPUS" train.py "$CONFIG" --launcher pytorch "$@"
