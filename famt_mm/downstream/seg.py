"""UperNet with a plain ViT for mmseg: mmseg's MAE backbone with a loader that cannot fail silently.

Imported by the segmentation configs through
``custom_imports = dict(imports=['famt_mm.downstream.seg'])`` with ``default_scope = 'mmseg'``;
``import famt_mm`` alone does not import mmseg.
"""

from mmengine.logging import print_log
from mmseg.models.backbones import MAE
from mmseg.registry import MODELS

from ..checkpoint import MMSEG, read_loadable


@MODELS.register_module()
class FAMTCheckedMAE(MAE):
    """mmseg's ``MAE`` backbone whose pretrained checkpoint must initialise every weight.

    mmseg's ``MAE.init_weights`` loads ``init_cfg['checkpoint']`` with ``strict=False`` and discards the
    result, so a checkpoint in the wrong key names (e.g. a pretraining checkpoint with ``backbone.*``
    keys) silently trains from scratch. This subclass first checks the checkpoint against its own state
    dict and raises unless every weight is pretrained or on the explicit list no plain ViT provides
    (layer scales, which must start at 1, i.e. ``init_values=1.0``; relative position biases, zero),
    then loads it through mmseg's own code (which also interpolates ``pos_embed``). The class name keeps
    'MAE' so mmseg's ``LayerDecayOptimizerConstructor`` recognises it. Arguments are ``MAE``'s.
    """

    def init_weights(self) -> None:
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            path = self.init_cfg['checkpoint']
            # read twice (here and in MAE.init_weights): the check stays a check, mmseg's loading stays
            # mmseg's
            _, report = read_loadable(
                path,
                self.state_dict(),
                MMSEG,
                setting='FAMTCheckedMAE init_cfg.checkpoint',
                user='the segmentor',
            )
            print_log(
                f'{path}: {len(report.matched) + len(report.resized)} pretrained tensors, '
                f'{len(report.not_pretrained)} layer scales / relative position biases at their '
                f'neutral start',
                logger='current',
            )
        super().init_weights()
