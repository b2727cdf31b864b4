"""Tiny Runner trainings across a refresh of FAMT-BEiT (v1, v2) and FAMT-CAE (docs/algorithms.md):
two pictures per image, the first masked by the plan, the second read by a random tokenizer."""

import pytest

from famt_mm.testing import build_runner
from famt_mm.testing.beit_cae import tiny_beit_cfg, tiny_beitv2_cfg, tiny_cae_cfg, two_picture_demo_cfg
from famt_mm.testing.runs import record_plans, refresh_hook_of

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    'model, second_size',
    [(tiny_beitv2_cfg, 32), (tiny_beit_cfg, 64), (tiny_cae_cfg, 64)],
    ids=['beitv2', 'beit', 'cae'],
)
def test_training_crosses_a_refresh(tmp_path, model, second_size):
    runner = build_runner(two_picture_demo_cfg(tmp_path, model(), second_size))
    plans = record_plans(runner)
    runner.train()
    assert refresh_hook_of(runner).refreshed_epoch == 1
    maps = runner.model.data_preprocessor.importance_cache.maps
    assert maps.shape == (16, 8, 8)
    assert maps.float().std() > 0  # scored from the attention, not uniform
    assert {(v, t) for e, v, t in plans if e == 0} == {(40, 0)}  # 64 patches: 24 random, none thrown
    assert {(v, t) for e, v, t in plans if e >= 1} == {(24, 16)}  # 24 masked, 16 thrown
