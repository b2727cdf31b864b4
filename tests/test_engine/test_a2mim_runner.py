"""Tiny Runner trainings of A²MIM on a ResNet-18 (96 px): FAMT masking across a refresh scored from the
CNN itself."""

import pytest
import torch
from mmengine.runner import Runner

from famt_mm.testing import demo_cfg
from famt_mm.testing.a2mim import tiny_a2mim_cfg
from famt_mm.testing.runs import record_plans, refresh_hook_of

pytestmark = pytest.mark.slow


def _cfg(tmp_path, model: dict, max_epochs: int = 3):
    cfg = demo_cfg(tmp_path, max_epochs=max_epochs, start_epoch=1, interval=2, num_images=16, img_size=96)
    cfg.model = model
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=max_epochs)
    return cfg


def test_famt_a2mim_training_crosses_a_refresh_with_maps_scored_from_the_cnn(tmp_path):
    runner = Runner.from_cfg(_cfg(tmp_path, tiny_a2mim_cfg()))
    plans = record_plans(runner)
    token = runner.model.backbone.mask_token.detach().clone()
    runner.train()
    assert refresh_hook_of(runner).refreshed_epoch == 1
    maps = runner.model.data_preprocessor.importance_cache.maps
    assert maps.shape == (16, 3, 3)  # one weight per 32-px unit: the last stage's 3 x 3 map
    assert maps.float().std() > 0  # frequency weights, not uniform
    warm_up = {(v, t) for e, v, t in plans if e == 0}
    guided = {(v, t) for e, v, t in plans if e >= 1}
    assert warm_up == guided == {(4, 0)}  # 9 units: 5 masked, none thrown
    assert not torch.equal(runner.model.backbone.mask_token.detach(), token)  # the token trains
