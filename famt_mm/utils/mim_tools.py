"""Run the command-line tools that OpenMMLab packages ship in their ``.mim/tools`` folder."""

import os.path as osp
import runpy
import sys
from importlib import import_module
from typing import Sequence

#: packages whose tools/train.py and tools/test.py famt_mm's tools hand over to
TOOL_PACKAGES = ('mmpretrain', 'mmdet', 'mmseg')


def mim_tool_path(package: str, tool: str) -> str:
    """Path of ``tools/<tool>`` as installed inside ``package`` (e.g. mmpretrain, mmdet, mmseg)."""
    root = osp.dirname(import_module(package).__file__)
    path = osp.join(root, '.mim', 'tools', tool)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{package} does not ship tools/{tool} (looked for {path})')
    return path


def package_for_config(argv: Sequence[str]) -> str:
    """The package whose tools run the config ``argv[1]``: its ``default_scope`` (mmpretrain, mmdet or
    mmseg); mmpretrain when there is no config argument or no scope."""
    if len(argv) < 2 or argv[1].startswith('-'):
        return 'mmpretrain'
    from mmengine.config import Config

    scope = Config.fromfile(argv[1], import_custom_modules=False).get('default_scope') or 'mmpretrain'
    if scope not in TOOL_PACKAGES:
        raise ValueError(f'{argv[1]}: default_scope must be one of {sorted(TOOL_PACKAGES)}, got {scope!r}')
    return scope


def run_mim_tool(package: str, tool: str) -> None:
    """Run a package's tool as ``__main__`` with this process's arguments."""
    path = mim_tool_path(package, tool)
    sys.argv[0] = path
    runpy.run_path(path, run_name='__main__')
