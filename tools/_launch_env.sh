# Shared by tools/dist_train.sh, dist_test.sh and slurm_train.sh; sourced by them, not run on its own.
# Sets PYTHON (the interpreter, default python) and TOOLS, and puts the famt_mm checkout first on PYTHONPATH.

# need_args COUNT USAGE "$@": exit 2 with the usage line when fewer than COUNT arguments are given
need_args() {
  local count=$1 usage=$2
  shift 2
  if [[ $# -lt $count ]]; then
    echo "usage: bash $0 $usage" >&2
    exit 2
  fi
}

# torchrun_tool GPUS TOOL [arguments ...]: exec tools/TOOL in GPUS processes per node through torchrun;
# multi-node settings come from NNODES, NODE_RANK, MASTER_ADDR and PORT
torchrun_tool() {
  local gpus=$1 tool=$2
  shift 2
  exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$gpus" --master_port="${PORT:-29500}" \
    "$TOOLS/$tool" "$@"
}

PYTHON=${PYTHON:-python}
# the tools and the famt_mm checkout are found from this file's own path; the cwd stays the caller's
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHONPATH="$(dirname "$TOOLS")${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
