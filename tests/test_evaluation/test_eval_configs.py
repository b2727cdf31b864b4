"""Every config under configs/famt/pretrain and configs/famt/benchmarks (found by glob, so later
configs are covered too) builds its model and dataloaders and trains one iteration with mmengine's
Runner on a tiny dataset written in the config's own on-disk format, with a 2-block ViT."""

import glob
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch
from eval_fakes import TINY_ARCH, WRITERS, shrink_benchmark_cfg, shrink_pretrain_cfg
from mmengine.config import Config
from mmpretrain.registry import MODELS

from famt_mm.evaluation.protocol import adapt_to_pretraining
from famt_mm.testing import build_runner, tiny_mae_cfg

pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout

CONFIG_ROOT = osp.join(ROOT, 'configs', 'famt')
CONFIGS = sorted(
    p
    for group in ('pretrain', 'benchmarks')
    for p in glob.glob(osp.join(CONFIG_ROOT, group, '**', '*.py'), recursive=True)
    # the MAE family of the evaluation protocol; the other pretraining configs (SimMIM, MFF, MaskFeat,
    # SparK, the digits demo) train in tests/test_configs, the cluttered digits in tests/test_engine
    if '_base_' not in p.split(os.sep)
    and (
        group != 'pretrain'
        or (re.match(r'(famt-|amt-|baseline-)mae_', osp.basename(p)) and not p.endswith('digits.py'))
    )
)


def _load(path):
    # without yapf formatting, which takes most of a run's seconds (mmengine 0.10.7's fromfile
    # ignores its format_python_code argument for plain configs, hence the copy)
    cfg = Config.fromfile(path)
    return Config(cfg.to_dict(), filename=path, format_python_code=False)


def _id(path):
    return osp.relpath(path, CONFIG_ROOT)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    """Writes each dataset format once per module, on first use."""
    roots = {}

    def get(dataset_type):
        if dataset_type not in WRITERS:
            raise KeyError(f'no fake-data writer for {dataset_type}: add one to tests/eval_fakes.py')
        if dataset_type not in roots:
            root = tmp_path_factory.mktemp(dataset_type)
            WRITERS[dataset_type](str(root))
            roots[dataset_type] = str(root)
        return roots[dataset_type]

    return get


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """A tiny FAMT-MAE state dict (the pretraining's key layout) per (img_size, patch_size, encoder):
    an X-ViT fine-tune loads an X-ViT pretraining's encoder, the others a ViT's."""
    paths = {}

    def get(img_size, patch_size, benchmark_backbone='VisionTransformer'):
        encoder = 'FAMTMAEXViT' if benchmark_backbone == 'FAMTXViT' else 'FAMTMAEViT'
        key = (img_size, patch_size, encoder)
        if key not in paths:
            torch.manual_seed(0)
            model_cfg = tiny_mae_cfg(img_size=img_size, patch_size=patch_size)
            model_cfg['backbone']['type'] = encoder
            model = MODELS.build(model_cfg)
            path = str(tmp_path_factory.mktemp('ckpt') / f'tiny_{img_size}_{patch_size}_{encoder}.pth')
            torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), path)
            paths[key] = path
        return paths[key]

    return get


def test_the_glob_finds_both_groups():
    groups = {_id(p).split(os.sep)[0] for p in CONFIGS}
    assert groups == {'pretrain', 'benchmarks'}
    assert len(CONFIGS) >= 28


@pytest.mark.parametrize('path', CONFIGS, ids=_id)
def test_config_trains_one_iteration(path, tmp_path, data_root, tiny_checkpoint):
    cfg = _load(path)
    assert cfg.custom_imports['imports'] == ['famt_mm']
    root = data_root(cfg.train_dataloader.dataset.type)
    backbone = cfg.model.backbone
    img_size, patch_size = backbone.get('img_size', 224), backbone.patch_size
    pretraining = _id(path).startswith('pretrain')
    if pretraining:
        shrink_pretrain_cfg(cfg, tmp_path, root)
    else:
        cfg.model.backbone.init_cfg.checkpoint = tiny_checkpoint(img_size, patch_size, backbone.type)
        adapt_to_pretraining(
            cfg,
            Config(dict(model=dict(backbone=dict(arch=TINY_ARCH, img_size=img_size, patch_size=patch_size)))),
        )
        shrink_benchmark_cfg(cfg, tmp_path, root)

    runner = build_runner(cfg)
    runner.train()

    assert runner.iter == 1
    assert np.isfinite(runner.message_hub.get_scalar('train/loss').current())
    if pretraining:
        preprocessor = runner.model.data_preprocessor
        if preprocessor.mask_generator.needs_importance:  # FAMT / AMT: refreshed before epoch 0
            grid = img_size // patch_size
            assert preprocessor.guided
            assert tuple(preprocessor.importance_cache.maps.shape[1:]) == (grid, grid)
        else:  # the baseline: random masking, the refresh hook does nothing
            assert not preprocessor.guided and preprocessor.importance_cache.maps is None
    else:
        top1 = runner.message_hub.get_scalar('val/accuracy/top1').current()
        assert 0.0 <= top1 <= 100.0
