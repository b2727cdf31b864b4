"""The "own config" example: FAMT-MAE in a config that inherits mmpretrain's MAE directly states every
setting FAMT needs, and trains (tiny ViT, a tiny ImageNet-layout folder) across an importance refresh."""
import os
import os.path as osp
import uuid

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

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


def test_the_example_inherits_mmpretrain_and_states_every_famt_setting():
    with open(EXAMPLE) as f:
        text = f.read()
    assert f"_base_ = '{BASE}'" in text and 'famt/pretrain' not in text
    cfg = Config.fromfile(EXAMPLE)
    assert cfg.custom_imports.imports == ['famt_mm']
    model = cfg.model
    assert (model.type, model.backbone.type, model.neck.type, model.head.type) == \
        ('FAMTMAE', 'FAMTMAEViT', 'FAMTMAEPretrainDecoder', 'MAEPretrainHead')
    assert model.neck.num_patches == (224 // 16)**2
    assert model.backbone.patch_size == model.neck.patch_size == model.head.patch_size == 16
    preprocessor = cfg.data_preprocessor
    assert preprocessor.type == 'FAMTDataPreprocessor' and preprocessor.patch_size == 16
    assert preprocessor.mean == [123.675, 116.28, 103.53] and preprocessor.to_rgb  # inherited
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert [t.type for t in pipeline] == ['LoadImageFromFile', 'RandomResizedCropWithBox',
                                         'RandomFlip', 'PackFAMTInputs']
    assert pipeline[1].scale == 224
    assert cfg.train_dataloader.collate_fn == dict(type='default_collate')  # no `_scope_`
    hook, = cfg.custom_hooks
    assert hook.type == 'FAMTRefreshHook'
    assert [t.type for t in hook.pipeline] == ['LoadImageFromFile', 'Resize', 'PackInputs']
    assert hook.pipeline[1].scale == (224, 224)  # scored at the training size


def test_inheriting_mmpretrain_without_restating_collate_fn_fails(tmp_path):
    """Why the example restates collate_fn: the inherited one reaches default_collate with `_scope_`."""
    write_imagenet(str(tmp_path / 'data'))
    plain = tmp_path / 'plain.py'
    plain.write_text(f"_base_ = '{BASE}'\n")
    cfg = Config.fromfile(str(plain))
    loader = cfg.train_dataloader
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader.dataset.data_root = str(tmp_path / 'data')
    batches = Runner.build_dataloader(loader)
    with pytest.raises(TypeError, match="unexpected keyword argument '_scope_'"):
        next(iter(batches))


def shrink(cfg: Config, work_dir: str, data_root: str) -> Config:
    """The example at 32 px with 8-px patches and a 2-block ViT, on CPU, refreshing before epoch 1 (0-based)
    and every epoch after."""
    cfg.work_dir = work_dir
    cfg.experiment_name = f'famt_example_{uuid.uuid4().hex[:8]}'
    cfg.data_preprocessor.patch_size = PATCH_SIZE
    model = cfg.model
    model.backbone.update(arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
                          img_size=IMG_SIZE, patch_size=PATCH_SIZE)
    model.neck.update(num_patches=(IMG_SIZE // PATCH_SIZE)**2, patch_size=PATCH_SIZE, embed_dim=32,
                      decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2)
    model.head.patch_size = PATCH_SIZE
    cfg.train_dataloader.dataset.pipeline[1].scale = IMG_SIZE
    hook = cfg.custom_hooks[0]
    hook.pipeline[1].scale = (IMG_SIZE, IMG_SIZE)
    hook.update(start_epoch=1, interval=1, batch_size=4)
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
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.epoch == 2
    preprocessor = runner.model.data_preprocessor
    maps = preprocessor.importance_cache.maps
    assert maps is not None and maps.shape == (8, 4, 4)  # every image scored on the 4 x 4 grid
    assert torch.isfinite(maps.float()).all()
    saved = torch.load(str(tmp_path / 'work' / 'epoch_2.pth'), map_location='cpu', weights_only=True)
    assert saved['famt_importance']['maps'].shape == (8, 4, 4)  # the cache travels with the checkpoint
    assert 'backbone.layers.1.attn.qkv.weight' in saved['state_dict']
