#!/usr/bin/env bash
# Downloads into .whl/ (git-ignored) the wheels a GPU machine without OpenMMLab packages and without
# network needs to run the GPU run kit: the light OpenMMLab stack and the pure-Python packages it
# requires beyond what such a machine has (Python 3.12 with torch, torchvision, numpy, pillow,
# packaging, opencv, matplotlib, rich, scikit-learn, pytest). The device tool carries .whl/ (name it
# in `carry`); tools/gpu_benchmark.sh installs it there with pip --no-index --no-deps --target.
# Run it where pip reaches the package index. See docs/speed.md ("The GPU run kit").
#
#   bash tools/fetch_device_wheels.sh [PYTHON_VERSION]   # the machine's Python, default 3.12
#
# Environment: PYTHON (default python3), the interpreter whose pip downloads.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
VERSION=${1:-3.12}
if ! [[ "$VERSION" =~ ^3\.[0-9]+$ ]]; then
  echo "fetch_device_wheels.sh: PYTHON_VERSION must look like 3.12, got '$VERSION'" >&2; exit 2
fi
WHEELS=(
  # the light stack as tested (requirements/constraints.txt)
  mmcv-lite==2.1.0 mmengine==0.10.7 mmpretrain==1.2.0
  # what their wheels' Requires-Dist name (and those packages' own), at the versions tested here
  addict==2.4.0 yapf==0.43.0 platformdirs==4.14.9 termcolor==3.3.0 pyyaml==6.0.4 einops==0.8.2
  importlib-metadata==10.2.0 zipp==4.1.2 lazy-importer==0.1.0 mat4py==0.6.0 modelindex==0.0.2
  model-index==0.1.11 ordered-set==4.1.0 markdown==3.11.3 click==8.5.1
  # mmengine 0.10.7 imports pkg_resources, which setuptools 81 removed
  setuptools==80.10.2
  # pytest.ini's per-test time limit (timeout = 600)
  pytest-timeout==2.4.0
)
rm -rf .whl
mkdir -p .whl
"$PY" -m pip download --no-deps --only-binary=:all: --python-version "$VERSION" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "${WHEELS[@]}"
count=$(find .whl -maxdepth 1 -type f -name '*.whl' | wc -l)
if ((count != ${#WHEELS[@]})); then
  echo "fetch_device_wheels.sh: expected ${#WHEELS[@]} wheels, got $count" >&2; exit 1
fi
echo "$count wheels in .whl ($(du -sh .whl | cut -f1)); carry '.whl' with the device tool"
