"""Helpers of the downstream tests: tiny pretraining checkpoints, tiny downstream configs, synthetic
COCO / ADE20K samples. Not a test module."""

import copy
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, Optional

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from famt_mm.testing import tiny_mae_cfg, vit_simmim_cfg
from famt_mm.utils.configs import config_root

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout


DOWNSTREAM = osp.join(config_root(), 'famt', 'downstream')
DET_CONFIG = osp.join(DOWNSTREAM, 'mask-rcnn_vit-b-p16-famt-mae_lsj-100e_coco.py')
DET_SHORT_CONFIG = osp.join(DOWNSTREAM, 'mask-rcnn_vit-b-p16-famt-mae_lsj-25e_coco.py')
SEG_CONFIG = osp.join(DOWNSTREAM, 'upernet_vit-b-p16-famt-mae_8xb2-amp-160k_ade20k-512x512.py')
EXPORT_TOOL = osp.join(ROOT, 'tools', 'export_backbone.py')


def last_line_printed_by(code: str) -> str:
    """Run ``code`` in a fresh interpreter from the checkout (imports start from nothing there);
    fail on an error, return the last line it printed."""
    run = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip().splitlines()[-1]


# the tiny ViT of these tests: 64-px pretraining with 16-px patches (4 x 4 grid), 4 blocks, 32 dims
TINY = dict(embed_dims=32, num_layers=4, num_heads=4, feedforward_channels=64)
PRETRAIN_SIZE = 64


@pytest.fixture(autouse=True)
def keep_default_scope():
    """Runners and registries of mmdet / mmseg must not leave their scope current for later tests."""
    saved = copy.copy(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict = saved


def require_mmdet_and_mmseg() -> None:
    """Skip the calling test module where mmdet or mmseg is missing: they need mmcv's compiled ops,
    which only the main test environment has."""
    for package in ('mmdet', 'mmseg'):
        pytest.importorskip(
            package,
            reason=f'{package} is not installed: the downstream tests run in '
            'the main environment (tools/setup_env.sh full)',
        )


def _randomise(state: Dict[str, torch.Tensor], seed: int) -> Dict[str, torch.Tensor]:
    """Every tensor random, so that a weight left at its initial value cannot pass for loaded."""
    generator = torch.Generator().manual_seed(seed)
    return {k: torch.randn(v.shape, generator=generator).to(v.dtype) for k, v in state.items()}


def build_mmpretrain(cfg: dict) -> torch.nn.Module:
    from mmpretrain.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)


def tiny_vit_checkpoint(path: str, kind: str = 'famt_mae', seed: int = 0, **arch) -> Dict[str, torch.Tensor]:
    """Write a tiny pretraining checkpoint; return its model state dict (random values).

    kind: 'famt_mae' (FAMT-MAE: backbone, decoder neck, head and the importance cache, as the Runner
    writes it), 'vit' (an mmpretrain VisionTransformer classifier: backbone.* and head.*) or 'simmim'
    (FAMT-SimMIM with a ViT: backbone.* with backbone.mask_token, its linear decoder, the cache).
    """
    arch = {**TINY, **arch}
    if kind == 'famt_mae':
        cfg = tiny_mae_cfg(img_size=PRETRAIN_SIZE, patch_size=16)
        cfg['backbone']['arch'] = arch
        cfg['neck']['embed_dim'] = arch['embed_dims']
        state = build_mmpretrain(cfg).state_dict()
        extra = dict(famt_importance=dict(maps=torch.rand(8, 4, 4).half(), epoch=1))
    elif kind == 'simmim':
        cfg = vit_simmim_cfg(img_size=PRETRAIN_SIZE, patch_size=16, unit_size=32)
        cfg['backbone']['arch'] = arch
        cfg['neck']['in_channels'] = arch['embed_dims']
        state = build_mmpretrain(cfg).state_dict()  # FAMT-SimMIM: backbone.* with mask_token, neck
        extra = dict(famt_importance=dict(maps=torch.rand(8, 4, 4).half(), epoch=1))
    elif kind == 'vit':
        vit = build_mmpretrain(
            dict(type='VisionTransformer', arch=arch, img_size=PRETRAIN_SIZE, patch_size=16)
        )
        state = {f'backbone.{k}': v for k, v in vit.state_dict().items()}
        state['head.layers.head.weight'] = torch.zeros(10, arch['embed_dims'])
        extra = {}
    else:
        raise ValueError(kind)
    state = _randomise(state, seed)
    torch.save(dict(meta=dict(epoch=1, iter=4), state_dict=state, **extra), path)
    return state


def replace_values(node, mapping: dict):
    """Copy of a config tree with every value found in ``mapping`` (e.g. sizes) replaced."""
    if isinstance(node, dict):
        return type(node)({k: replace_values(v, mapping) for k, v in node.items()})
    if isinstance(node, (list, tuple)):
        if all(isinstance(v, (int, float)) for v in node) and tuple(node) in mapping:
            return type(node)(mapping[tuple(node)])
        return type(node)(replace_values(v, mapping) for v in node)
    return node


def set_dataloaders(cfg: Config, dataset: dict, batch_size: int) -> None:
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
        target = loader.dataset.dataset if loader.dataset.type == 'RepeatDataset' else loader.dataset
        target.update(dataset)
        if loader.dataset.type == 'RepeatDataset':
            loader.dataset.times = 1


def cpu_runtime(cfg: Config, work_dir: str) -> None:
    cfg.work_dir = work_dir
    cfg.optim_wrapper.type = 'OptimWrapper'  # AmpOptimWrapper asserts a GPU
    cfg.optim_wrapper.pop('loss_scale', None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1000)
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)


def tiny_det_cfg(pretrained: Optional[str], size: int = 128) -> Config:
    """The 100-epoch detection config at ``size`` px with the tiny ViT (window 2, global blocks 1, 3)."""
    cfg = Config.fromfile(DET_CONFIG)
    cfg = Config(replace_values(cfg.to_dict(), {(1024, 1024): (size, size)}))
    cfg.model.backbone.update(
        img_size=size,
        embed_dims=TINY['embed_dims'],
        depth=TINY['num_layers'],
        num_heads=TINY['num_heads'],
        mlp_ratio=TINY['feedforward_channels'] / TINY['embed_dims'],
        window_size=2,
        global_block_indexes=(1, 3),
        pretrain_img_size=PRETRAIN_SIZE,
        init_cfg=None if pretrained is None else dict(type='Pretrained', checkpoint=pretrained),
    )
    cfg.model.data_preprocessor.pad_size_divisor = size
    cfg.model.neck.update(in_channels=TINY['embed_dims'], out_channels=32)
    # narrow heads and fewer RoIs: the 256-wide convolution heads on 512 RoIs take 40 s a step on CPU
    model = cfg.model
    model.rpn_head.update(in_channels=32, feat_channels=32)
    model.roi_head.bbox_roi_extractor.out_channels = 32
    model.roi_head.mask_roi_extractor.out_channels = 32
    model.roi_head.bbox_head.update(in_channels=32, conv_out_channels=32, fc_out_channels=64)
    model.roi_head.mask_head.update(in_channels=32, conv_out_channels=32)
    model.train_cfg.rcnn.sampler.num = 64
    model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
    model.test_cfg.rpn.update(nms_pre=200, max_per_img=100)
    return cfg


def tiny_seg_cfg(pretrained: Optional[str], size: int = 64) -> Config:
    """The ADE20K config at ``size`` px crops with the tiny ViT and narrow decode heads."""
    cfg = Config.fromfile(SEG_CONFIG)
    cfg = Config(
        replace_values(
            cfg.to_dict(),
            {(512, 512): (size, size), (2048, 512): (4 * size, size), (341, 341): (2 * size // 3,) * 2},
        )
    )
    cfg.model.backbone.update(
        img_size=(size, size),
        embed_dims=TINY['embed_dims'],
        num_layers=TINY['num_layers'],
        num_heads=TINY['num_heads'],
        mlp_ratio=TINY['feedforward_channels'] // TINY['embed_dims'],
        out_indices=[0, 1, 2, 3],
        init_cfg=None if pretrained is None else dict(type='Pretrained', checkpoint=pretrained),
    )
    cfg.model.neck.embed_dim = TINY['embed_dims']
    cfg.model.decode_head.update(in_channels=[TINY['embed_dims']] * 4, channels=32)
    cfg.model.auxiliary_head.update(in_channels=TINY['embed_dims'], channels=32)
    cfg.optim_wrapper.paramwise_cfg.num_layers = TINY['num_layers']
    return cfg


def write_coco(root: str, num_images: int = 2, shape=(96, 128)) -> dict:
    """Images with 1-2 filled rectangles each and their COCO instance annotations (category 'person')."""
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    images, annotations = [], []
    for i in range(num_images):
        img = rng.integers(0, 255, (*shape, 3), dtype=np.uint8)
        for j in range(1 + i % 2):
            x0, y0 = int(rng.integers(0, shape[1] // 2)), int(rng.integers(0, shape[0] // 2))
            w, h = int(rng.integers(16, shape[1] // 2)), int(rng.integers(16, shape[0] // 2))
            img[y0 : y0 + h, x0 : x0 + w] = (40 * (j + 1), 200, 90)
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=i + 1,
                    category_id=1,
                    iscrowd=0,
                    area=w * h,
                    bbox=[x0, y0, w, h],
                    segmentation=[[x0, y0, x0 + w, y0, x0 + w, y0 + h, x0, y0 + h]],
                )
            )
        name = f'{i:06d}.jpg'
        cv2.imwrite(osp.join(root, 'images', name), img)
        images.append(dict(id=i + 1, file_name=name, height=shape[0], width=shape[1]))
    coco = dict(
        images=images,
        annotations=annotations,
        categories=[dict(id=1, name='person'), dict(id=2, name='bicycle')],
    )
    with open(osp.join(root, 'instances.json'), 'w') as f:
        json.dump(coco, f)
    return dict(data_root=root, ann_file='instances.json', data_prefix=dict(img='images/'))


def write_ade(root: str, num_images: int = 2, shape=(64, 96)) -> dict:
    """ADE20K-layout images and label maps (0 = ignore, 1..150 = classes) under ``root``."""
    rng = np.random.default_rng(0)
    for split in ('training', 'validation'):
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
        for i in range(num_images):
            img = rng.integers(0, 255, (*shape, 3), dtype=np.uint8)
            label = np.zeros(shape, dtype=np.uint8)
            label[:, : shape[1] // 2] = 1 + i  # two regions: two classes, plus ignore below
            label[: shape[0] // 2, shape[1] // 2 :] = 13
            cv2.imwrite(osp.join(root, 'images', split, f'ADE_{split}_{i:08d}.jpg'), img)
            cv2.imwrite(osp.join(root, 'annotations', split, f'ADE_{split}_{i:08d}.png'), label)
    return dict(data_root=root)
