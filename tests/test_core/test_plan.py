"""From patch-grid weights to a plan: pooling to units, sampling, expansion; mean-1 maps."""

import pytest
import torch

from famt_mm.core import expand_unit_ids, mean_one, plan_from_weights, pool_to_units, sample_plan


def _seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def test_uniform_weights_draw_as_sample_plan_on_ones():
    plan = plan_from_weights(None, (4, 4), 1, 0.5, 0.25, batch_size=3, generator=_seeded())
    expected = sample_plan(torch.ones(3, 16), 0.5, 0.25, generator=_seeded())
    assert all(torch.equal(a, b) for a, b in zip(plan, expected))


def test_units_pool_the_weights_then_expand_to_patches():
    weights = torch.rand(2, 4, 6)
    plan = plan_from_weights(weights, (4, 6), 2, 0.5, 0.0, generator=_seeded(1))
    # the same draw over the 2x3 units, expanded to their 2x2 patches
    units = sample_plan(pool_to_units(weights, 2).flatten(1), 0.5, 0.0, generator=_seeded(1))
    assert torch.equal(plan.masked, expand_unit_ids(units.masked, 3, 2))
    assert torch.equal(plan.visible, expand_unit_ids(units.visible, 3, 2))
    assert plan.num_patches == 24


def test_heavy_units_are_masked():
    weights = torch.full((1, 4, 4), 1e-6)
    weights[0, :2, :2] = 1.0  # the top-left unit of 2x2 patches
    plan = plan_from_weights(weights, (4, 4), 2, 0.25, 0.0)
    assert sorted(plan.masked[0].tolist()) == [0, 1, 4, 5]


def test_sampling_options_are_passed_to_sample_plan(monkeypatch):
    seen = {}

    def recording(weights, mask_ratio, throw_ratio, **sampling):
        seen.update(sampling)
        return sample_plan(weights, mask_ratio, throw_ratio)

    monkeypatch.setattr('famt_mm.core.plan.sample_plan', recording)
    plan_from_weights(None, (2, 2), 1, 0.5, 0.0, batch_size=1, rounding='ceil', throw_from='low')
    assert seen == dict(rounding='ceil', throw_from='low')


@pytest.mark.parametrize(
    'args,kwargs,match',
    [
        ((torch.rand(2, 4, 4), (4, 4), 3), {}, 'not a multiple of the masking unit of 3 patches'),
        ((torch.rand(2, 4, 4), (4, 4), 0), {}, 'unit must be a positive integer'),
        ((torch.rand(2, 2, 2), (4, 4), 1), {}, 'do not cover the patch grid \\(4, 4\\)'),
        ((None, (4, 4), 1), {}, 'needs batch_size when weights is None'),
    ],
)
def test_bad_arguments_raise(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plan_from_weights(*args, 0.5, 0.0, **kwargs)


def test_mean_one_scales_each_map():
    maps = torch.rand(3, 5, 7) * torch.tensor([1.0, 10.0, 1e3])[:, None, None]
    normed = mean_one(maps)
    assert torch.allclose(normed.flatten(1).mean(1), torch.ones(3))
    assert torch.allclose(normed[1] / normed[1, 0, 0], maps[1] / maps[1, 0, 0])
    assert not torch.isfinite(mean_one(torch.zeros(1, 2, 2))).any()  # left to sanitize_weights
