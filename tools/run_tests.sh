#!/usr/bin/env bash
# The test suite: sets up .venv, then runs pytest on CPU. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup_env.sh
.venv/bin/python -m pytest tests "$@"
