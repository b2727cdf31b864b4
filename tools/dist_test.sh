#!/usr/bin/env bash
# Distributed testing through torchrun and mmengine's 'pytorch' launcher, with mmpretrain's arguments:
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py arguments ...]
# Runs from the caller's working directory. Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on
# every node. PYTHON picks the interpreter.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: bash $0 CONFIG CHECKPOINT GPUS [test.py arguments ...]" >&2
  exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHONPATH="$(dirname "$TOOLS")${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m torch.distributed.run \
  --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$GPUS" --master_port="$PORT" \
  "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
