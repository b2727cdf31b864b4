"""famt_mm: FAMT masking and throwing for masked image modeling in mmpretrain, as an OpenMMLab plugin.

FAMT's importance maps decide which patches an algorithm masks and which it throws away; the same
masking serves mmpretrain's MAE, SimMIM (ViT and Swin), MFF, MILAN, MaskFeat, BEiT / BEiT v2, CAE and
SparK, and famt_mm's A²MIM (``docs/algorithms.md``). Importing the package registers its modules into
mmpretrain's registries (the runner into mmengine's), so configs of any project can use them with
``custom_imports = dict(imports=['famt_mm'])`` and ``default_scope='mmpretrain'``; the FAMT base config
(``configs/famt/_base_/famt.py``) adds the runner and the refresh hook. The masking core
(``famt_mm.core``) is plain PyTorch and stays importable without OpenMMLab. Importing the package does
not import ``mmcv.ops``, mmdet or mmseg, so pretraining runs with mmcv-lite; the downstream modules
(``famt_mm.downstream``) load only through the downstream configs.
"""

import importlib.util
import warnings

from .version import __version__

# Two known harmless warnings of the stack, silenced by their exact text (every other warning stays):
# mmengine 0.10.7 imports pkg_resources, which setuptools deprecates; mmcv-lite has no compiled op for
# mmcv's MultiScaleDeformableAttention, which pretraining never uses (mmdet's configs need full mmcv).
warnings.filterwarnings('ignore', message='pkg_resources is deprecated as an API', category=UserWarning)
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``', category=UserWarning
)

#: the ``mmcv`` module's versions famt_mm's pretraining works with (mmpretrain 1.2's range);
#: kept equal to requirements/mminstall.txt
MMCV_MIN, MMCV_MAX = '2.0.0', '2.4.0'


def _check_mmcv() -> None:
    """mmcv is not an install requirement (mmcv-lite and mmcv install the same module under two
    distribution names), so say here, before mmpretrain fails on it, which one to install."""
    hint = (
        'Install mmcv-lite (pure Python, enough for pretraining: pip install "mmcv-lite==2.1.0") or '
        'mmcv with compiled ops (needed by mmdet / mmseg, which require < 2.2.0: mim install '
        '"mmcv==2.1.0"); one of them, not both.'
    )
    if importlib.util.find_spec('mmcv') is None:
        raise ImportError(
            f'famt_mm needs the mmcv module, >= {MMCV_MIN} and < {MMCV_MAX}, and none is installed. {hint}'
        )
    import mmcv
    from packaging.version import Version  # a dependency of mmcv and mmcv-lite

    if not Version(MMCV_MIN) <= Version(mmcv.__version__) < Version(MMCV_MAX):
        raise ImportError(
            f'famt_mm needs mmcv >= {MMCV_MIN} and < {MMCV_MAX}; this environment has mmcv '
            f'{mmcv.__version__} ({mmcv.__file__}). {hint}'
        )


if importlib.util.find_spec('mmpretrain') is not None:
    _check_mmcv()
    from .checkpoint import allow_mmengine_checkpoints

    allow_mmengine_checkpoints()
    from . import datasets, engine, models  # noqa: F401  (registration)

__all__ = ['__version__']
