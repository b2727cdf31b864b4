"""The FAMT-BEiT (v1, v2) and FAMT-CAE ImageNet configs: stock counts, stock normalisation, no
pipeline mask, and one guided ViT-B step with two pictures."""

import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import get_installed_path
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from famt_mm.core import plan_counts

pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN = osp.join(ROOT, 'configs', 'famt', 'pretrain')
#: FAMT config, its mmpretrain base (under mmpretrain's .mim/configs), the tokenizer's picture size
CONFIGS = {
    'beitv2': (
        'famt-beitv2_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
        'beitv2/beitv2_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
        224,
    ),
    'beit': (
        'famt-beit_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
        'beit/beit_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
        112,
    ),
    'cae': (
        'famt-cae_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
        'cae/cae_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
        112,
    ),
}


@pytest.mark.parametrize('name', CONFIGS)
def test_counts_and_normalisation_are_the_stock_algorithms(name):
    path, base_path, second_size = CONFIGS[name]
    cfg = Config.fromfile(osp.join(PRETRAIN, path))
    base = Config.fromfile(osp.join(get_installed_path('mmpretrain'), '.mim', 'configs', base_path))
    stock_mask = next(t for t in base.train_pipeline if t.type == 'BEiTMaskGenerator')
    gen = cfg.data_preprocessor.mask_generator
    assert plan_counts(196, gen.mask_ratio, gen.throw_ratio) == (stock_mask.num_masking_patches, 58, 63)
    assert plan_counts(196, gen.warmup_mask_ratio, 0.0)[0] == stock_mask.num_masking_patches
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert not any(t.type == 'BEiTMaskGenerator' for t in pipeline)
    crop = next(t for t in pipeline if t.type == 'FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox')
    stock_crop = next(
        t for t in base.train_pipeline if t.type == 'RandomResizedCropAndInterpolationWithTwoPic'
    )
    assert {k: v for k, v in crop.items() if k != 'type'} == {
        k: v for k, v in stock_crop.items() if k != 'type'
    }
    assert crop.second_size == second_size
    for key in ('mean', 'std', 'second_mean', 'second_std', 'to_rgb'):
        assert cfg.data_preprocessor[key] == base.data_preprocessor[key], key
    if name == 'cae':
        assert cfg.model.neck.mask_tokens_num == stock_mask.num_masking_patches


@pytest.mark.parametrize('name', ['beitv2', 'cae'])
def test_vit_b_guided_step_with_two_pictures(name):
    path, _, second_size = CONFIGS[name]
    cfg = Config.fromfile(osp.join(PRETRAIN, path))
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model_cfg = cfg.model.copy()
    model_cfg['data_preprocessor'] = cfg.data_preprocessor
    model = MODELS.build(model_cfg)  # random tokenizer: the published weights load in init_weights
    lengths = []
    model.backbone.layers[0].register_forward_pre_hook(
        lambda m, args, kwargs: lengths.append((args + tuple(kwargs.values()))[0].shape[1]), with_kwargs=True
    )
    model.data_preprocessor.importance_cache.set(torch.rand(1, 14, 14))
    samples = [
        DataSample(
            metainfo=dict(
                sample_idx=0, crop_box=np.array([0.1, 0.2, 0.9, 0.7]), flip=True, flip_direction='horizontal'
            )
        )
    ]
    pictures = [torch.randint(0, 255, (1, 3, size, size), dtype=torch.uint8) for size in (224, second_size)]
    data = model.data_preprocessor(dict(inputs=pictures, data_samples=samples), training=True)
    losses = model(**data, mode='loss')
    loss = sum(v for k, v in losses.items() if k.startswith('loss'))
    loss.backward()
    assert torch.isfinite(loss)
    plan = data['mask_plan']
    assert (plan.masked.shape[1], plan.thrown.shape[1], plan.visible.shape[1]) == (75, 58, 63)
    # BEiT v2 carries [MASK] tokens through the encoder, CAE encodes the visible patches only
    assert lengths == [1 + 75 + 63 if name == 'beitv2' else 1 + 63]
