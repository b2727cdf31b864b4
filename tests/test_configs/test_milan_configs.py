"""The FAMT-MILAN ImageNet config: MILAN's parts and teacher inherited, FAMT's masking, and one guided
ViT-B step (the published CLIP teacher replaced by a random tiny one of the same shapes)."""

import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.utils import get_installed_path
from mmpretrain.registry import MODELS

from famt_mm.testing.configs import guided_step
from famt_mm.utils.configs import find_config

pytestmark = pytest.mark.slow

PATH = find_config('famt/pretrain/famt-milan_vit-base-p16_16xb256-amp-coslr-400e_in1k.py')
BASE = 'milan/milan_vit-base-p16_16xb256-amp-coslr-400e_in1k.py'


def test_milan_parts_and_teacher_are_inherited():
    cfg = Config.fromfile(PATH)
    base = Config.fromfile(osp.join(get_installed_path('mmpretrain'), '.mim', 'configs', BASE))
    assert cfg.model.target_generator == base.model.target_generator  # the published CLIP ViT-B/16
    assert cfg.model.head == base.model.head  # cosine similarity on CLIP features
    assert (cfg.model.backbone.arch, cfg.model.neck.type) == ('b', 'FAMTMILANPretrainDecoder')
    assert cfg.model.neck.init_cfg == base.model.neck.init_cfg
    assert 'embed_dim' not in base.model.neck and cfg.model.neck.embed_dim == 768  # the base's 1024: ViT-L
    gen = cfg.data_preprocessor.mask_generator
    assert (gen.mask_ratio, gen.throw_ratio) == (0.45, 0.40)
    # the warm-up masks at the generator's default, MILAN's own ratio
    warmup = MODELS.build(gen).warmup_mask_ratio
    assert warmup == base.model.backbone.mask_ratio == 0.75
    assert cfg.data_preprocessor.mean == base.data_preprocessor.mean
    assert cfg.optim_wrapper.optimizer.lr == base.optim_wrapper.optimizer.lr
    # FAMTRunner gives the optimizer wrapper FAMT's constructor (fused AdamW where torch has one)
    assert cfg.runner_type == 'FAMTRunner' and 'constructor' not in cfg.optim_wrapper


def test_vit_b_milan_guided_step_has_the_published_token_counts():
    plan, lengths = guided_step(
        Config.fromfile(PATH),
        224,
        (14, 14),
        record_lengths=lambda m: dict(encoder=m.backbone.layers[0], decoder=m.neck.decoder_blocks[0]),
    )
    assert (plan.masked.shape[1], plan.thrown.shape[1], plan.visible.shape[1]) == (88, 78, 30)
    # the prompting decoder's blocks update the 88 mask tokens only
    assert lengths == {'encoder': 1 + 30, 'decoder': 88}
