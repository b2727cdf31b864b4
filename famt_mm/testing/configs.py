"""Helpers of the config tests: a config's model, and one guided training step on random images."""

import numpy as np
import torch

from .milan import with_tiny_clip


def build_config_model(cfg):
    """The model of a config, with the config's top-level data preprocessor (as mmengine's Runner builds
    it); MILAN's CLIP teacher, which loads its weights when built, is a random tiny CLIP of the same
    shapes."""
    from mmpretrain.registry import MODELS

    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(with_tiny_clip(model_cfg))


def guided_step(cfg, img_size, map_grid, batch=2, record_lengths=None):
    """One guided training step of a config's model on random images; returns the plan and the input
    lengths of the modules ``record_lengths(model)`` names."""
    from mmengine.registry import init_default_scope
    from mmpretrain.structures import DataSample

    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model = build_config_model(cfg)
    lengths = {}
    for key, module in (record_lengths(model) if record_lengths else {}).items():
        module.register_forward_pre_hook(lambda m, a, key=key: lengths.__setitem__(key, a[0].shape[1]))
    model.data_preprocessor.importance_cache.set(torch.rand(batch, *map_grid))
    samples = [
        DataSample(
            metainfo=dict(
                sample_idx=i,
                crop_box=np.array([0.1, 0.2, 0.9, 0.7]),
                flip=bool(i),
                flip_direction='horizontal',
            )
        )
        for i in range(batch)
    ]
    data = model.data_preprocessor(
        dict(
            inputs=torch.randint(0, 255, (batch, 3, img_size, img_size), dtype=torch.uint8),
            data_samples=samples,
        ),
        training=True,
    )
    loss = model(**data, mode='loss')['loss']
    loss.backward()
    assert torch.isfinite(loss)
    return data['mask_plan'], lengths
