"""The ImageNet-1K and demo pretraining configs (and the quick-start entry point) load, build and (for
ViT-B) run one guided training step. The other datasets' configs: tests/test_evaluation."""

import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import HOOKS, TRANSFORMS

from famt_mm.engine import FAMTRunner
from famt_mm.engine.checks import resolve_epochs
from famt_mm.testing.configs import build_config_model, guided_step

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout


pytestmark = pytest.mark.slow

PRETRAIN = osp.join(ROOT, 'configs', 'famt', 'pretrain')


CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'famt', '*.py'))
    + glob.glob(osp.join(ROOT, 'configs', 'famt', 'pretrain', '*_in1k*.py'))
    + glob.glob(osp.join(ROOT, 'configs', 'famt', 'pretrain', '*_digits.py'))
)


def _schedule(cfg) -> tuple:
    """The refresh hook's (start_epoch, interval) in whole epochs, and the schedule's epochs."""
    hook = next(h for h in cfg.custom_hooks if h.type == 'FAMTRefreshHook')
    epochs = cfg.train_cfg.max_epochs
    return (
        resolve_epochs(hook.get('start_epoch', 0.1), epochs, 'start_epoch', 0),
        resolve_epochs(hook.get('interval', 0.1), epochs, 'interval', 1),
        epochs,
    )


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    assert cfg.custom_imports['imports'] == ['famt_mm'] and cfg.runner_type == 'FAMTRunner'
    model = build_config_model(cfg)
    assert type(model).__name__ in (
        'FAMTMAE',
        'FAMTSimMIM',
        'FAMTMFF',
        'FAMTMaskFeat',
        'FAMTSparK',
        'FAMTBEiT',
        'FAMTCAE',
        'FAMTA2MIM',
        'FAMTMILAN',
    )
    assert model.data_preprocessor.patch_size == model.plan_taking_module().plan_patch_size
    for t in cfg.train_dataloader.dataset.pipeline:
        TRANSFORMS.build(t)
    refresh = [HOOKS.build(h) for h in cfg.custom_hooks if h.type == 'FAMTRefreshHook']
    assert len(refresh) == 1  # a no-op for random masking
    for t in refresh[0].pipeline or ():
        TRANSFORMS.build(t)


def test_the_settings_of_the_published_runs():
    famt = Config.fromfile(osp.join(PRETRAIN, 'famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'))
    gen = famt.data_preprocessor.mask_generator
    assert (gen.type, gen.mask_ratio, gen.throw_ratio) == ('FAMTMaskGenerator', 0.45, 0.40)
    assert _schedule(famt) == (40, 40, 400)
    assert famt.optim_wrapper.optimizer.betas == (0.9, 0.95)
    long = Config.fromfile(osp.join(PRETRAIN, 'famt-mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'))
    assert _schedule(long) == (40, 80, 800)
    assert long.param_scheduler[1].T_max == 760
    amt = Config.fromfile(osp.join(PRETRAIN, 'amt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'))
    gen = amt.data_preprocessor.mask_generator
    assert (gen.type, gen.mask_ratio, gen.throw_ratio) == ('AMTMaskGenerator', 0.45, 0.40)
    baseline = Config.fromfile(osp.join(PRETRAIN, 'baseline-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'))
    assert baseline.data_preprocessor.mask_generator == dict(type='FAMTRandomMaskGenerator', mask_ratio=0.75)
    simmim = Config.fromfile(osp.join(PRETRAIN, 'famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py'))
    gen = simmim.data_preprocessor.mask_generator
    assert (gen.mask_ratio, gen.throw_ratio, simmim.data_preprocessor.unit_size) == (0.44, 0.26, 32)
    # the official SimMIM code: each count rounded up, warm-up at the guided mask ratio
    assert (gen.count_rounding, gen.warmup_mask_ratio) == ('ceil_each', 0.44)
    amt_simmim = Config.fromfile(osp.join(PRETRAIN, 'amt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py'))
    gen = amt_simmim.data_preprocessor.mask_generator
    assert (gen.type, gen.count_rounding, gen.warmup_mask_ratio) == ('AMTMaskGenerator', 'ceil_each', 0.44)
    assert _schedule(simmim) == (40, 40, 200)
    assert simmim.optim_wrapper.optimizer.lr == 1e-4 * 2048 / 512
    assert simmim.param_scheduler[0].end == 10
    swin = Config.fromfile(osp.join(PRETRAIN, 'famt-simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py'))
    assert swin.data_preprocessor.mask_generator.throw_ratio == 0.0
    assert swin.data_preprocessor.mask_generator.count_rounding == 'ceil_each'
    assert swin.model.backbone.type == 'FAMTSimMIMSwin'
    assert _schedule(swin) == (10, 10, 100)


def test_vit_b_mae_guided_step_has_the_published_token_counts():
    cfg = Config.fromfile(osp.join(PRETRAIN, 'famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'))
    _, lengths = guided_step(
        cfg,
        224,
        (14, 14),
        record_lengths=lambda m: dict(encoder=m.backbone.layers[0], decoder=m.neck.decoder_blocks[0]),
    )
    assert lengths == {'encoder': 1 + 30, 'decoder': 1 + 30 + 88}


def test_vit_b_simmim_guided_step_throws_52_patches():
    cfg = Config.fromfile(osp.join(PRETRAIN, 'famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py'))
    plan, lengths = guided_step(
        cfg, 224, (14, 14), record_lengths=lambda m: dict(encoder=m.backbone.layers[0])
    )
    # 22 / 13 / 14 units of 2x2 patches: ceil(49 * 0.44), ceil(49 * 0.26), the rest
    assert (plan.masked.shape[1], plan.thrown.shape[1], plan.visible.shape[1]) == (88, 52, 56)
    assert lengths == {'encoder': 1 + 196 - 52}


def test_swin_b_simmim_guided_step_masks_units_without_throwing():
    cfg = Config.fromfile(osp.join(PRETRAIN, 'famt-simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py'))
    plan, _ = guided_step(cfg, 192, (6, 6), batch=1)
    # 6x6 units of 8x8 patches: ceil(36 * 0.6) = 22 units masked
    assert (plan.masked.shape[1], plan.thrown.shape[1]) == (22 * 64, 0)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_train_dataloader_feeds_the_preprocessor(path):
    """The config's own loader settings (collate, sampler) and pipeline, on a few in-memory digits."""
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    loader_cfg = cfg.train_dataloader.copy()
    pipeline = [t for t in loader_cfg.dataset.pipeline if t.type != 'LoadImageFromFile']
    loader_cfg.update(batch_size=2, num_workers=0, persistent_workers=False)
    # replaced, not merged: a base's ann_file / data_prefix (MaskFeat's) would reach SklearnDigits
    loader_cfg['dataset'] = dict(type='SklearnDigits', indices=4, pipeline=pipeline)
    batch = next(iter(FAMTRunner.build_dataloader(loader_cfg)))
    model = build_config_model(cfg)
    data = model.data_preprocessor(batch, training=True)
    inputs = data['inputs']
    size = (inputs[0] if isinstance(inputs, list) else inputs).shape[-1]  # BEiT, CAE: two pictures
    assert data['mask_plan'].num_patches == (size // model.data_preprocessor.patch_size) ** 2
    assert all(s.crop_box is not None for s in data['data_samples'])
