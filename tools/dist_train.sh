#!/usr/bin/env bash
# Distributed training through torchrun and mmengine's 'pytorch' launcher, with mmpretrain's arguments:
#   bash tools/dist_train.sh CONFIG GPUS [train.py arguments ...]
# Runs from the caller's working directory, so relative config and --work-dir paths mean what they say.
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on every node. PYTHON picks the interpreter.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: bash $0 CONFIG GPUS [train.py arguments ...]" >&2
  exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
# the tools and the famt_mm checkout are found from this script's own path; the cwd stays the caller's
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHONPATH="$(dirname "$TOOLS")${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m torch.distributed.run \
  --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$GPUS" --master_port="$PORT" \
  "$TOOLS/train.py" "$CONFIG" --launcher pytorch "$@"
