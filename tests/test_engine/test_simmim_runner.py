"""Tiny Runner trainings of FAMT-SimMIM (ViT with throwing, Swin with masking) across a refresh."""

import pytest
from mmengine.runner import Runner

from famt_mm.testing import demo_cfg, swin_simmim_cfg, vit_simmim_cfg
from famt_mm.testing.runs import record_plans, refresh_hook_of

pytestmark = [pytest.mark.slow, pytest.mark.classic]


@pytest.mark.parametrize('backbone', ['vit', 'swin'])
def test_simmim_training_crosses_a_refresh(backbone, tmp_path):
    img_size = 16 if backbone == 'vit' else 32
    cfg = demo_cfg(tmp_path, max_epochs=3, start_epoch=1, interval=2, num_images=32, img_size=img_size)
    cfg.model = vit_simmim_cfg() if backbone == 'vit' else swin_simmim_cfg()
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=3)
    runner = Runner.from_cfg(cfg)
    plans = record_plans(runner)
    runner.train()
    maps = runner.model.data_preprocessor.importance_cache.maps
    assert refresh_hook_of(runner).refreshed_epoch == 1
    assert maps.shape == (32, 4, 4)  # ViT: 4x4 patches; Swin: 4x4 tokens of its last stage
    warm_up = {(v, t) for e, v, t in plans if e == 0}
    guided = {(v, t) for e, v, t in plans if e >= 1}
    if backbone == 'vit':  # 2x2 units of 2x2 patches: warm-up 0.5 / 0; guided 0.5 / 0.25
        assert warm_up == {(8, 0)} and guided == {(4, 4)}
    else:  # 2x2 units of 4x4 patches, masking only
        assert warm_up == {(32, 0)} and guided == {(32, 0)}
