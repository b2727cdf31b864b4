"""Configs write their values inside the dicts that use them, so a changed setting (a child config,
--cfg-options) reaches what it sets, and what the code derives follows the model and the crop."""

import ast
import glob
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config
from mmpretrain.registry import MODELS

from famt_mm.engine.checks import derive_scoring_pipeline
from famt_mm.utils.configs import config_root

FAMT = osp.join(config_root(), 'famt')
CONFIGS = sorted(p for p in glob.glob(osp.join(FAMT, '**', '*.py'), recursive=True))
PRETRAIN = sorted(p for p in CONFIGS if osp.sep + 'pretrain' + osp.sep in p)

#: the top-level names a config may set: mmengine's and the OpenMMLab packages' own keys
CONFIG_KEYS = {
    '_base_',
    'custom_imports',
    'default_scope',
    'runner_type',
    'model',
    'data_preprocessor',
    'train_dataloader',
    'val_dataloader',
    'test_dataloader',
    'val_evaluator',
    'test_evaluator',
    'train_cfg',
    'val_cfg',
    'test_cfg',
    'optim_wrapper',
    'param_scheduler',
    'auto_scale_lr',
    'default_hooks',
    'custom_hooks',
    'env_cfg',
    'log_processor',
    'log_level',
    'load_from',
    'resume',
    'randomness',
    'visualizer',
    'vis_backends',
    'launcher',
    'work_dir',
    'fp16',
    'compile',
}


def _id(path: str) -> str:
    return osp.relpath(path, FAMT)


def _needs(path: str) -> None:
    """Skip a config whose bases come from a package that is not installed (the light demo stack)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    for package in ('mmdet', 'mmseg'):
        if f"'{package}::" in text and importlib.util.find_spec(package) is None:
            pytest.skip(f'{package} is not installed')
    for base in _bases(text):
        if '::' not in base:
            _needs(osp.normpath(osp.join(osp.dirname(path), base)))


def _bases(text: str) -> list:
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == '_base_':
            value = ast.literal_eval(node.value)
            return [value] if isinstance(value, str) else list(value)
    return []


def test_the_glob_finds_every_group():
    groups = {_id(p).split(osp.sep)[0] for p in CONFIGS}
    assert {'_base_', 'pretrain', 'benchmarks', 'downstream', 'examples', 'mae_vitb_in1k.py'} <= groups
    assert len(PRETRAIN) >= 25


@pytest.mark.parametrize('path', CONFIGS, ids=_id)
def test_configs_hold_no_knob_variables(path):
    """A top-level variable used inside a base's dicts would not follow a child's (or --cfg-options')
    change; every value is written where it is used."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    names = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    knobs = sorted(names - CONFIG_KEYS)
    assert not knobs, f'{_id(path)}: top-level variables {knobs}; write their values inside the dicts'


@pytest.mark.parametrize('path', PRETRAIN, ids=_id)
def test_a_changed_ratio_reaches_the_built_preprocessor(path):
    cfg = Config.fromfile(path)
    assert 'data_preprocessor' not in cfg.model  # the top-level one reaches the model (Runner)
    generator = cfg.data_preprocessor.mask_generator
    ratio = 0.1 if generator.get('mask_ratio', 0.75) + generator.get('throw_ratio', 0.0) >= 0.9 else 0.3
    cfg.merge_from_dict({'data_preprocessor.mask_generator.mask_ratio': ratio})  # as --cfg-options
    preprocessor = MODELS.build(cfg.data_preprocessor)
    assert preprocessor.mask_generator.mask_ratio == ratio
    assert type(preprocessor.mask_generator).__name__ == generator.type


@pytest.mark.parametrize('path', PRETRAIN, ids=_id)
def test_the_scoring_pipeline_follows_the_training_crop(path):
    """Changing the crop's scale changes the scoring pipeline with it (derived, not restated); the
    two-picture crops of BEiT and CAE state theirs, at the training size."""
    cfg = Config.fromfile(path)
    pipeline = cfg.train_dataloader.dataset.pipeline
    crop = next(t for t in pipeline if 'Crop' in t.type)
    hook = next((h for h in cfg.custom_hooks if h.type == 'FAMTRefreshHook'), None)
    assert hook is not None, 'every FAMT pretraining config refreshes (a no-op for random masking)'
    if crop.type == 'FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox':
        assert hook.pipeline[1] == dict(type='Resize', scale=(crop.size, crop.size), interpolation='bicubic')
        return
    assert hook.get('pipeline') is None
    crop.scale = 48
    derived = derive_scoring_pipeline(pipeline, (48, 48))
    resize = derived[-2]
    assert resize['type'] == 'Resize' and resize['scale'] == (48, 48)
    assert {k: resize[k] for k in resize if k in ('interpolation', 'backend')} == {
        k: crop[k] for k in crop if k in ('interpolation', 'backend')
    }


@pytest.mark.slow
def test_a_changed_image_size_reaches_every_pipeline(tmp_path):
    """The demo at 16 px: the crop, the resize before it and the backbone are what a user changes; the
    refresh's scoring, the figures' and the probe's pipelines follow, and train."""
    from famt_mm.testing import build_runner

    cfg = Config.fromfile(osp.join(FAMT, 'pretrain', 'famt-mae_vit-tiny-p4_1xb64-60e_digits.py'))
    cfg.merge_from_dict(
        {
            'train_dataloader.dataset.pipeline.0.scale': (16, 16),
            'train_dataloader.dataset.pipeline.1.scale': 16,
            'model.backbone.img_size': 16,
            'train_dataloader.dataset.indices': 32,
            'train_cfg.max_epochs': 2,
            'work_dir': str(tmp_path),
            'log_level': 'WARNING',
        }
    )
    cfg.custom_hooks[0].update(start_epoch=1, interval=1)
    for split, count in (('train_dataloader', 32), ('test_dataloader', 16)):
        cfg.custom_hooks[1][split].dataset.indices = count
    cfg.custom_hooks.append(dict(type='FAMTVisualizationHook', indices=[0], interval=2, panel=16))
    runner = build_runner(cfg)
    runner.train()
    refresh, probe, figures = (
        next(h for h in runner.hooks if type(h).__name__ == name)
        for name in ('FAMTRefreshHook', 'FAMTLinearProbeHook', 'FAMTVisualizationHook')
    )
    for pipeline in (refresh.pipeline, figures.pipeline):
        assert pipeline[-2] == dict(type='Resize', scale=(16, 16), interpolation='bicubic', backend='cv2')
    assert runner.model.data_preprocessor.importance_cache.maps.shape == (32, 4, 4)
    assert probe.results['num_test'] == 16 and 0 <= probe.results['top1'] <= 100
