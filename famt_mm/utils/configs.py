"""Where famt_mm's own configs are: the package data an install carries, or the source checkout.

``setup.py`` puts ``configs/`` into the package as ``famt_mm/.mim/configs`` (a copy for a regular
install, a link for an editable one), as OpenMMLab's packages do, so tools and libraries find the
configs the same way wherever famt_mm is installed.
"""

import os.path as osp

_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))


def config_root() -> str:
    """The folder holding ``famt/`` (pretrain, benchmarks, downstream configs)."""
    packaged = osp.join(_PACKAGE, '.mim', 'configs')
    if osp.isdir(osp.join(packaged, 'famt')):
        return packaged
    # running from a source checkout that was never installed (PYTHONPATH=.)
    checkout = osp.join(osp.dirname(_PACKAGE), 'configs')
    if osp.isfile(osp.join(osp.dirname(_PACKAGE), 'setup.py')) and osp.isdir(osp.join(checkout, 'famt')):
        return checkout
    raise FileNotFoundError(
        f'famt_mm finds no configs: neither {packaged} (package data) nor a source checkout beside '
        f'{_PACKAGE}. Reinstall famt_mm (pip install .) or pass the config path explicitly.'
    )


def find_config(name: str) -> str:
    """The path of ``name``: an existing path as given, else relative to :func:`config_root`
    (e.g. ``'famt/pretrain/famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'``)."""
    if osp.isfile(name):
        return name
    path = osp.join(config_root(), name)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no config {name!r}: not a file, and not under {config_root()}')
    return path
