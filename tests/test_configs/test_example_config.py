"""The "own config" example: FAMT added to mmpretrain's MAE config in at most 12 lines (the FAMT base
and the generator; the rest is derived), trained (tiny ViT, a tiny ImageNet-layout folder) across an
importance refresh."""

import os
import os.path as osp
import uuid

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from famt_mm.testing import build_runner

pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout
EXAMPLE = osp.join(ROOT, 'configs', 'famt', 'examples', 'famt-mae_vit-base-p16_own-config_in1k.py')
BASE = 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'
IMG_SIZE, PATCH_SIZE = 32, 8  # a 4 x 4 patch grid: 7 masked, 6 thrown, 3 visible


def write_imagenet(root: str, classes: int = 2, per_class: int = 4) -> None:
    """JPEGs in mmpretrain's ImageNet layout: train/<wnid>/<wnid>_<i>.JPEG and meta/train.txt (the
    annotation file, which spares the dataset its check for 1000 class folders)."""
    rng = np.random.default_rng(0)
    lines = []
    for c in range(classes):
        folder = osp.join(root, 'train', f'n{c:08d}')
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            image = rng.integers(0, 255, (40 + 4 * i, 48, 3), dtype=np.uint8)
            cv2.imwrite(osp.join(folder, f'n{c:08d}_{i}.JPEG'), image)
            lines.append(f'n{c:08d}/n{c:08d}_{i}.JPEG {c}\n')
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    with open(osp.join(root, 'meta', 'train.txt'), 'w') as f:
        f.writelines(lines)


def test_the_example_adds_famt_to_mmpretrain_in_at_most_12_lines():
    with open(EXAMPLE) as f:
        lines = [line for line in f if line.strip() and not line.lstrip().startswith('#')]
    assert len(lines) <= 12, ''.join(lines)
    assert f"'{BASE}'" in lines[0] and '_base_/famt.py' in lines[0] and 'famt/pretrain' not in ''.join(lines)
    cfg = Config.fromfile(EXAMPLE)
    assert cfg.custom_imports.imports == ['famt_mm'] and cfg.runner_type == 'FAMTRunner'
    model = cfg.model
    assert (model.type, model.backbone.type, model.neck.type, model.head.type) == (
        'FAMTMAE',
        'FAMTMAEViT',
        'FAMTMAEPretrainDecoder',
        'MAEPretrainHead',
    )
    preprocessor = cfg.data_preprocessor
    assert preprocessor.type == 'FAMTDataPreprocessor' and 'patch_size' not in preprocessor
    assert preprocessor.mean == [123.675, 116.28, 103.53] and preprocessor.to_rgb  # inherited
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert [t.type for t in pipeline] == [
        'LoadImageFromFile',
        'FAMTRandomResizedCropWithBox',
        'RandomFlip',
        'PackFAMTInputs',
    ]
    (hook,) = cfg.custom_hooks
    assert hook == dict(type='FAMTRefreshHook', start_epoch=0.1, interval=0.1)


def test_the_built_example_derives_its_geometry_from_the_backbone():
    from mmpretrain.registry import MODELS

    cfg = Config.fromfile(EXAMPLE)
    model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    assert model.data_preprocessor.patch_size == 16
    assert model.neck.num_patches == 196 and model.neck.decoder_pos_embed.shape == (1, 197, 512)
    assert model.neck.decoder_pred.out_features == 16 * 16 * 3 and model.head.patch_size == 16


def test_the_famt_runner_builds_an_inherited_dataloader(tmp_path):
    """mmengine hands an inherited collate_fn dict to default_collate with its `_scope_` key; the FAMT
    runner drops it."""
    write_imagenet(str(tmp_path / 'data'))
    plain = tmp_path / 'plain.py'
    plain.write_text(f"_base_ = '{BASE}'\n")
    cfg = Config.fromfile(str(plain))
    loader = cfg.train_dataloader
    assert loader.collate_fn == dict(type='default_collate', _scope_='mmpretrain')
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader.dataset.data_root = str(tmp_path / 'data')
    from famt_mm.engine import FAMTRunner

    batch = next(iter(FAMTRunner.build_dataloader(loader)))
    assert batch['inputs'].shape == (2, 3, 224, 224)  # default_collate stacked the images


def shrink(cfg: Config, work_dir: str, data_root: str) -> Config:
    """The example at 32 px with 8-px patches and a 2-block ViT, on CPU, refreshing before epoch 1 (0-based)
    and every epoch after. Only the backbone's geometry is set: the rest follows it."""
    cfg.work_dir = work_dir
    cfg.experiment_name = f'famt_example_{uuid.uuid4().hex[:8]}'
    model = cfg.model
    model.backbone.update(
        arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
        img_size=IMG_SIZE,
        patch_size=PATCH_SIZE,
    )
    model.neck.update(embed_dim=32, decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2)
    cfg.train_dataloader.dataset.pipeline[1].scale = IMG_SIZE
    cfg.custom_hooks[0].update(start_epoch=1, interval=1, batch_size=4)
    cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.optim_wrapper.type = 'OptimWrapper'  # AmpOptimWrapper needs a GPU
    cfg.optim_wrapper.pop('loss_scale', None)
    cfg.train_cfg.max_epochs = 2
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_level = 'WARNING'
    return cfg


def test_the_example_trains_two_epochs_across_a_refresh(tmp_path):
    data_root = str(tmp_path / 'imagenet')
    write_imagenet(data_root)
    cfg = shrink(Config.fromfile(EXAMPLE), str(tmp_path / 'work'), data_root)
    runner = build_runner(cfg)
    assert type(runner).__name__ == 'FAMTRunner'
    runner.train()
    assert runner.epoch == 2
    preprocessor = runner.model.data_preprocessor
    assert preprocessor.patch_size == PATCH_SIZE  # derived from the backbone
    maps = preprocessor.importance_cache.maps
    assert maps is not None and maps.shape == (8, 4, 4)  # every image scored on the 4 x 4 grid
    assert torch.isfinite(maps.float()).all()
    saved = torch.load(str(tmp_path / 'work' / 'epoch_2.pth'), map_location='cpu', weights_only=True)
    assert saved['famt_importance']['maps'].shape == (8, 4, 4)  # the cache travels with the checkpoint
    assert 'backbone.layers.1.attn.qkv.weight' in saved['state_dict']


def test_the_small_run_trains_on_a_folder_of_images(tmp_path):
    """docs/own_small_run.md: a folder of JPEGs, a CPU, two epochs across a refresh."""
    folder = tmp_path / 'images'
    rng = np.random.default_rng(0)
    for i in range(48):
        os.makedirs(folder / f'part{i % 2}', exist_ok=True)
        image = rng.integers(0, 255, (70, 90, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f'part{i % 2}' / f'{i}.jpg'), image)
    cfg = Config.fromfile(osp.join(osp.dirname(EXAMPLE), 'famt-mae_vit-mini-p8_1xb32-20e_folder.py'))
    cfg.merge_from_dict(
        {
            'train_dataloader.dataset.data_root': str(folder),
            'train_dataloader.num_workers': 0,
            'train_cfg.max_epochs': 2,
            'work_dir': str(tmp_path / 'work'),
            'log_level': 'WARNING',
            'experiment_name': f'famt_small_{uuid.uuid4().hex[:8]}',
        }
    )
    cfg.custom_hooks = [dict(type='FAMTRefreshHook', start_epoch=1, interval=1)]
    runner = build_runner(cfg)
    runner.train()
    assert runner.epoch == 2 and runner.model.data_preprocessor.importance_cache.maps.shape == (48, 8, 8)
    assert runner.model.backbone.num_patches == runner.model.neck.num_patches == 64
