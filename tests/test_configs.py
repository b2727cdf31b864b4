"""Every config under configs/famt loads, builds and (for ViT-B) runs one guided training step."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpretrain.registry import HOOKS, MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

from conftest import ROOT

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'famt', '*.py')))


def _model(cfg):
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(model_cfg)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    assert cfg.custom_imports['imports'] == ['famt_mm']
    model = _model(cfg)
    assert type(model).__name__ == 'FAMTMAE'
    for t in cfg.train_dataloader.dataset.pipeline:
        TRANSFORMS.build(t)
    hooks = [HOOKS.build(h) for h in cfg.custom_hooks]
    refresh = next(h for h in hooks if type(h).__name__ == 'FAMTRefreshHook')
    for t in refresh.pipeline:
        TRANSFORMS.build(t)


def test_the_knobs_of_the_published_runs():
    famt = Config.fromfile(osp.join(ROOT, 'configs/famt/mae_vitb_in1k.py'))
    gen = famt.data_preprocessor.mask_generator
    assert (gen.type, gen.mask_ratio, gen.throw_ratio) == ('FAMTMaskGenerator', 0.45, 0.40)
    hook = next(h for h in famt.custom_hooks if h.type == 'FAMTRefreshHook')
    assert (hook.start_epoch, hook.interval, famt.train_cfg.max_epochs) == (40, 40, 400)
    assert famt.optim_wrapper.optimizer.betas == (0.9, 0.95)
    long = Config.fromfile(osp.join(ROOT, 'configs/famt/mae_vitb_in1k_800e.py'))
    hook = next(h for h in long.custom_hooks if h.type == 'FAMTRefreshHook')
    assert (hook.start_epoch, hook.interval, long.train_cfg.max_epochs) == (40, 80, 800)
    assert long.param_scheduler[1].T_max == 760
    amt = Config.fromfile(osp.join(ROOT, 'configs/famt/amt_mae_vitb_in1k.py'))
    assert amt.data_preprocessor.mask_generator.type == 'AMTMaskGenerator'


def test_vit_b_guided_training_step_has_the_published_token_counts():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/famt/mae_vitb_in1k.py'))
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model = _model(cfg)
    model.data_preprocessor.set_importance_maps(torch.rand(2, 14, 14))
    lengths = {}
    model.backbone.layers[0].register_forward_pre_hook(
        lambda m, a: lengths.__setitem__('encoder', a[0].shape[1]))
    model.neck.decoder_blocks[0].register_forward_pre_hook(
        lambda m, a: lengths.__setitem__('decoder', a[0].shape[1]))
    samples = [DataSample(metainfo=dict(sample_idx=i, crop_box=np.array([0.1, 0.2, 0.9, 0.7]),
                                        flip=bool(i), flip_direction='horizontal'))
               for i in range(2)]
    data = model.data_preprocessor(
        dict(inputs=torch.randint(0, 255, (2, 3, 224, 224), dtype=torch.uint8),
             data_samples=samples), training=True)
    loss = model(**data, mode='loss')['loss']
    loss.backward()
    assert torch.isfinite(loss)
    assert lengths == {'encoder': 1 + 30, 'decoder': 1 + 30 + 88}
