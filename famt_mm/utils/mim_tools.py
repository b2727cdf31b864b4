"""Run the command-line tools that OpenMMLab packages ship in their ``.mim/tools`` folder."""
import os.path as osp
import runpy
import sys
from importlib import import_module


def mim_tool_path(package: str, tool: str) -> str:
    """Path of ``tools/<tool>`` as installed inside ``package`` (e.g. mmpretrain, mmdet, mmseg)."""
    root = osp.dirname(import_module(package).__file__)
    path = osp.join(root, '.mim', 'tools', tool)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{package} does not ship tools/{tool} (looked for {path})')
    return path


def run_mim_tool(package: str, tool: str) -> None:
    """Run a package's tool as ``__main__`` with this process's arguments."""
    path = mim_tool_path(package, tool)
    sys.argv[0] = path
    runpy.run_path(path, run_name='__main__')
