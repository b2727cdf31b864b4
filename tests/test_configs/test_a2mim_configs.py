"""The A²MIM ResNet-50 configs: the FAMT run masks the baseline's units, and one guided step runs."""

import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

from famt_mm.core import plan_counts
from famt_mm.engine.checks import resolve_epochs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN = osp.join(ROOT, 'configs', 'famt', 'pretrain')

pytestmark = pytest.mark.slow


def _load(name: str) -> Config:
    return Config.fromfile(osp.join(PRETRAIN, f'{name}_resnet50_8xb256-amp-coslr-300e_in1k.py'))


def test_the_baseline_masks_as_a2mim_and_famt_as_many_units():
    """A²MIM draws SimMIM's mask: a uniform subset of ceil(0.6 x 49) = 30 of the 32-px units; the
    baseline draws the same through the plan, and FAMT as many, guided."""
    baseline, famt = _load('baseline-a2mim'), _load('famt-a2mim')
    init_default_scope('mmpretrain')
    stock = TRANSFORMS.build(
        dict(
            type='SimMIMMaskGenerator',
            input_size=224,
            mask_patch_size=32,
            model_patch_size=32,
            mask_ratio=0.6,
        )
    )(dict())['mask']
    for cfg in (baseline, famt):
        gen = cfg.data_preprocessor.mask_generator
        masked, thrown, _ = plan_counts(49, gen.mask_ratio, gen.get('throw_ratio', 0.0), gen.count_rounding)
        assert (masked, thrown) == (int(stock.sum()), 0) == (30, 0)
    assert baseline.data_preprocessor.mask_generator.type == 'FAMTRandomMaskGenerator'
    assert famt.model.type == baseline.model.type == 'FAMTA2MIM'
    assert (famt.model.head.fft_weight, famt.model.backbone.mask_layer) == (0.5, 3)
    hook = next(h for h in famt.custom_hooks if h.type == 'FAMTRefreshHook')
    epochs = famt.train_cfg.max_epochs
    assert (
        resolve_epochs(hook.start_epoch, epochs, 'start_epoch', 0),
        resolve_epochs(hook.interval, epochs, 'interval', 1),
        epochs,
    ) == (30, 30, 300)
    assert famt.optim_wrapper.optimizer.lr == pytest.approx(1.2e-3)


def test_a_guided_resnet50_step_masks_30_units_and_trains_the_mask_token():
    cfg = _load('famt-a2mim')
    init_default_scope(cfg.default_scope)
    model_cfg = cfg.model.copy()
    model_cfg.backbone.norm_cfg = dict(type='BN')  # SyncBN needs a process group
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.data_preprocessor.importance_cache.set(torch.rand(2, 7, 7))
    samples = [
        DataSample(
            metainfo=dict(
                sample_idx=i,
                crop_box=np.array([0.1, 0.2, 0.9, 0.7]),
                flip=bool(i),
                flip_direction='horizontal',
            )
        )
        for i in range(2)
    ]
    data = model.data_preprocessor(
        dict(inputs=torch.randint(0, 255, (2, 3, 224, 224), dtype=torch.uint8), data_samples=samples),
        training=True,
    )
    assert (data['mask_plan'].masked.shape[1], data['mask_plan'].thrown.shape[1]) == (30, 0)
    loss = model(**data, mode='loss')['loss']
    loss.backward()
    assert torch.isfinite(loss)
    assert model.backbone.mask_token.shape == (1, 1024, 1, 1)
    assert model.backbone.mask_token.grad.abs().sum() > 0
