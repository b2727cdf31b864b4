"""Test with mmpretrain's own tools/test.py (same arguments), with famt_mm's modules registered;
configs with default_scope 'mmdet' or 'mmseg' (configs/famt/downstream) go to mmdet's / mmseg's test.py.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options k=v ...] [--launcher ...]
"""

import sys

import famt_mm  # noqa: F401  (registers FAMT modules; makes mmengine checkpoints load on torch >= 2.6)
from famt_mm.utils.mim_tools import package_for_config, run_mim_tool

if __name__ == '__main__':
    run_mim_tool(package_for_config(sys.argv), 'test.py')
