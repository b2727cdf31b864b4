#!/usr/bin/env bash
# The test suite, in two environments (both set up or brought up to date first):
#   1. .venv, the full stack (mmcv with ops, mmdet, mmseg): every test.
#   2. .venv-classic, OpenMMLab's install-guide stack (torch 2.1, numpy < 2, mmcv-lite, no mmdet / mmseg):
#      the pretraining tests (core, preprocessor, MAE, SimMIM, refresh with resume, DDP): the quick tests
#      and the slow ones marked `classic`; modules that need mmdet or mmseg skip there, saying so.
# Before them, ruff checks the lint and the formatting of the whole repository (settings in ruff.toml).
# Extra arguments go to both pytest runs (e.g. -x, -k EXPR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS
bash tools/setup_env.sh full
echo "[tests] lint and format (ruff)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "[tests] main environment (.venv)"
.venv/bin/python -m pytest tests "$@"
main_done=$SECONDS
bash tools/setup_env.sh classic
echo "[tests] classic environment (.venv-classic)"
.venv-classic/bin/python -m pytest tests -m "not slow or classic" -rs "$@"
echo "[tests] done in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s" \
     "(main set-up + tests $(( main_done - start )) s, classic $(( SECONDS - main_done )) s)"
