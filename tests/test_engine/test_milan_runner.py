"""Tiny Runner training of FAMT-MILAN across a refresh (docs/algorithms.md): a random tiny CLIP teacher
gives the targets, the maps are scored from the student encoder."""

import pytest

from famt_mm.testing import build_runner
from famt_mm.testing.milan import milan_demo_cfg
from famt_mm.testing.runs import record_plans, refresh_hook_of

pytestmark = pytest.mark.slow


def test_milan_training_crosses_a_refresh(tmp_path):
    runner = build_runner(milan_demo_cfg(tmp_path))
    plans = record_plans(runner)
    scored = []
    runner.model.backbone.register_forward_pre_hook(
        lambda m, args, kwargs: scored.append(kwargs.get('importance', 'no keyword')), with_kwargs=True
    )
    runner.train()
    assert refresh_hook_of(runner).refreshed_epoch == 1
    maps = runner.model.data_preprocessor.importance_cache.maps
    assert maps.shape == (32, 4, 4)
    assert maps.float().std() > 0  # scored from the student's attention, not uniform
    assert None in scored  # the refresh scored through MILAN's extract_feat: backbone(x, importance=None)
    assert {(v, t) for e, v, t in plans if e == 0} == {(4, 0)}  # 16 patches: 0.75 random, none thrown
    assert {(v, t) for e, v, t in plans if e >= 1} == {(3, 6)}  # 0.45 / 0.40: 7 masked, 6 thrown
