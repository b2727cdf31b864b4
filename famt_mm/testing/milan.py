"""Builders of tiny FAMT-MILAN models and runs for tests.

mmpretrain's ``CLIPGenerator`` builds its CLIP from a checkpoint file (``tokenizer_path``) in its
constructor, and no published weights are available here: :func:`save_tiny_clip` writes a randomly
initialised tiny CLIP (mmpretrain's own ``CLIP`` class, a 1-block 64-wide visual and text branch)
that the stock generator then loads as it would the published one.
"""

import atexit
import copy
import os.path as osp
import shutil
import tempfile
from functools import cache

from . import demo_cfg, tiny_mae_cfg

#: the tiny teacher's output features per token (the decoder's predict_feature_dim)
CLIP_DIM = 16


def save_tiny_clip(path: str, img_size: int = 16, patch_size: int = 4, embed_dim: int = CLIP_DIM) -> str:
    """Write the state dict of a random tiny CLIP (visual: one 64-wide block of one head, ``patch_size``
    patches at ``img_size`` px, ``embed_dim`` output features) to ``path``; returns ``path``."""
    import torch
    from mmpretrain.models.utils.clip_generator_helper import CLIP

    torch.manual_seed(0)
    clip = CLIP(
        embed_dim=embed_dim,
        image_resolution=img_size,
        vision_layers=1,
        vision_width=64,
        vision_patch_size=patch_size,
        context_length=2,
        vocab_size=4,
        transformer_width=64,
        transformer_heads=1,
        transformer_layers=1,
    )
    torch.save(clip.state_dict(), path)
    return path


@cache
def tiny_clip_path(img_size: int = 16, patch_size: int = 4, embed_dim: int = CLIP_DIM) -> str:
    """:func:`save_tiny_clip` once per process and shape, into a temporary folder removed at exit."""
    folder = tempfile.mkdtemp(prefix='famt_tiny_clip_')
    atexit.register(shutil.rmtree, folder, True)
    return save_tiny_clip(osp.join(folder, 'clip.pth'), img_size, patch_size, embed_dim)


def with_tiny_clip(model: dict) -> dict:
    """``model`` with a ``CLIPGenerator`` teacher loading a random tiny CLIP of the student's image and
    patch size and the decoder's feature dimension, for building a MILAN config offline (a model
    config without a CLIP teacher is returned unchanged)."""
    teacher = model.get('target_generator') or {}
    if teacher.get('type') != 'CLIPGenerator':
        return model
    backbone = model['backbone']
    path = tiny_clip_path(
        backbone.get('img_size', 224),
        backbone.get('patch_size', 16),
        model['neck'].get('predict_feature_dim', 512),
    )
    return dict(model, target_generator=dict(teacher, tokenizer_path=path))


def tiny_milan_cfg(clip_path: str, mask_generator: dict = None) -> dict:
    """Model config of a tiny FAMT-MILAN: the tiny FAMT-MAE's 2-block student at 16 px (4-px patches),
    a 1-block prompting decoder, and the CLIP teacher at ``clip_path`` (:func:`save_tiny_clip`)."""
    cfg = tiny_mae_cfg(mask_generator=mask_generator)
    cfg.update(
        type='FAMTMILAN',
        backbone=dict(cfg['backbone'], type='FAMTMILANViT'),
        neck=dict(cfg['neck'], type='FAMTMILANPretrainDecoder', predict_feature_dim=CLIP_DIM),
        head=dict(type='MIMHead', loss=dict(type='CosineSimilarityLoss', shift_factor=2.0, scale_factor=2.0)),
        target_generator=dict(type='CLIPGenerator', tokenizer_path=clip_path),
    )
    return cfg


def milan_demo_cfg(work_dir, num_images: int = 32):
    """:func:`demo_cfg` (3 epochs at 16 px, refresh before epoch 1) training a tiny FAMT-MILAN whose
    teacher is written into ``work_dir``."""
    cfg = demo_cfg(work_dir, max_epochs=3, start_epoch=1, interval=2, num_images=num_images)
    clip_path = save_tiny_clip(osp.join(str(work_dir), 'tiny_clip.pth'))
    cfg.model = copy.deepcopy(tiny_milan_cfg(clip_path, cfg.data_preprocessor.mask_generator))
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=3)
    return cfg
