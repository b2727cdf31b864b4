"""famt_mm: FAMT masking and throwing for mmpretrain's MAE (and SimMIM), as an OpenMMLab plugin.

Importing the package registers its modules into mmpretrain's registries, so configs of any project
can use them with ``custom_imports = dict(imports=['famt_mm'])`` and ``default_scope='mmpretrain'``.
The masking core (``famt_mm.core``) is plain PyTorch and stays importable without OpenMMLab.
"""
import importlib.util

from .version import __version__

if importlib.util.find_spec('mmpretrain') is not None:
    from .checkpoint import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()
    from . import datasets, engine, models  # noqa: F401  (registration)

__all__ = ['__version__']
