"""Tiny Runner trainings across a refresh of the algorithms beyond MAE and SimMIM (docs/algorithms.md)."""

import pytest
from mmengine.runner import Runner

from famt_mm.testing import demo_cfg, tiny_maskfeat_cfg, tiny_mff_cfg, tiny_spark_cfg
from famt_mm.testing.runs import record_plans, refresh_hook_of

pytestmark = pytest.mark.slow


def _train(tmp_path, model: dict, img_size: int = 16, num_images: int = 32):
    cfg = demo_cfg(
        tmp_path, max_epochs=3, start_epoch=1, interval=2, num_images=num_images, img_size=img_size
    )
    cfg.model = model
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=3)
    runner = Runner.from_cfg(cfg)
    plans = record_plans(runner)
    runner.train()
    assert refresh_hook_of(runner).refreshed_epoch == 1
    warm_up = {(v, t) for e, v, t in plans if e == 0}
    guided = {(v, t) for e, v, t in plans if e >= 1}
    return runner, warm_up, guided


def test_mff_training_crosses_a_refresh(tmp_path):
    runner, warm_up, guided = _train(tmp_path, tiny_mff_cfg())
    assert runner.model.data_preprocessor.importance_cache.maps.shape == (32, 4, 4)
    assert warm_up == {(4, 0)}  # 16 patches: 0.75 random, nothing thrown
    assert guided == {(3, 6)}  # 0.45 / 0.40 of 16: 7 masked, 6 thrown, 3 visible


def test_maskfeat_training_crosses_a_refresh(tmp_path):
    runner, warm_up, guided = _train(tmp_path, tiny_maskfeat_cfg(), img_size=56, num_images=16)
    assert runner.model.data_preprocessor.importance_cache.maps.shape == (16, 14, 14)
    assert warm_up == {(118, 0)}  # 196 patches: 78 random [MASK], nothing thrown
    assert guided == {(59, 59)}  # 78 masked, 59 thrown, 59 visible


def test_spark_training_crosses_a_refresh_with_maps_scored_from_the_cnn(tmp_path):
    runner, warm_up, guided = _train(tmp_path, tiny_spark_cfg(), img_size=128, num_images=16)
    maps = runner.model.data_preprocessor.importance_cache.maps
    assert maps.shape == (16, 4, 4)  # one weight per 32-px unit: the last stage's 4 x 4 map
    assert maps.float().std() > 0  # frequency weights, not uniform
    assert warm_up == guided == {(7, 0)}  # 16 units: 9 masked, none thrown
