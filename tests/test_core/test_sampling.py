"""Sampling of masked / thrown / visible sets (docs/method.md sections 4 and 6)."""

import pytest
import torch

from famt_mm.core import MaskPlan, gather_tokens, plan_counts, sample_plan, sanitize_weights


def _check_partition(plan: MaskPlan, num_patches: int, counts):
    n_masked, n_thrown, n_visible = counts
    assert plan.masked.shape[1] == n_masked
    assert plan.thrown.shape[1] == n_thrown
    assert plan.visible.shape[1] == n_visible
    everything = torch.cat([plan.visible, plan.masked, plan.thrown], dim=1).sort(dim=1).values
    expected = torch.arange(num_patches).expand_as(everything)
    assert torch.equal(everything, expected), 'sets must be disjoint and cover every patch'


def test_counts_of_the_public_defaults():
    assert plan_counts(196, 0.45, 0.40) == (88, 78, 30)
    assert plan_counts(196, 0.75, 0.0) == (147, 0, 49)  # MAE's warm-up: 49 visible as stock MAE
    assert plan_counts(49, 0.44, 0.26) == (21, 13, 15)  # MAE's rounding on SimMIM's 7x7 units


def test_counts_per_algorithm_as_the_reference_code_rounds_them():
    # MAE reference: int() of the cumulative ratios
    assert plan_counts(196, 0.45, 0.40, rounding='floor_cumulative') == (88, 78, 30)
    # SimMIM reference: ceil() of each ratio on its own, 7x7 units of 32 px at 224 px
    assert plan_counts(49, 0.44, 0.26, rounding='ceil_each') == (22, 13, 14)
    assert plan_counts(49, 0.44, 0.0, rounding='ceil_each') == (22, 0, 27)  # its warm-up
    assert plan_counts(36, 0.6, 0.0, rounding='ceil_each') == (22, 0, 14)  # SimMIM's Swin, 6x6
    assert plan_counts(196, 0.45, 0.40, rounding='ceil_each') == (89, 79, 28)


@pytest.mark.parametrize('rounding', ['floor_cumulative', 'ceil_each'])
def test_exact_products_are_not_rounded_off_by_float_noise(rounding):
    # 0.29 * 100 = 28.999999999999996 and 0.07 * 100 = 7.000000000000001 in floats
    assert plan_counts(100, 0.29, 0.0, rounding) == (29, 0, 71)
    assert plan_counts(100, 0.07, 0.14, rounding) == (7, 14, 79)
    assert plan_counts(196, 0.5, 0.25, rounding) == (98, 49, 49)
    for mask_pct in range(1, 99, 3):
        for throw_pct in range(0, 99 - mask_pct, 4):
            assert plan_counts(100, mask_pct / 100, throw_pct / 100, rounding) == (
                mask_pct,
                throw_pct,
                100 - mask_pct - throw_pct,
            )


def test_bad_rounding_and_a_rounding_without_visible_patches_raise():
    with pytest.raises(ValueError, match="rounding must be one of 'floor_cumulative', 'ceil_each'"):
        plan_counts(49, 0.44, 0.26, rounding='round')
    assert plan_counts(10, 0.55, 0.35) == (5, 4, 1)
    with pytest.raises(ValueError, match="leaves no visible patch of 10 with rounding='ceil_each'"):
        plan_counts(10, 0.55, 0.35, rounding='ceil_each')  # 6 + 4 of 10


@pytest.mark.parametrize('mask_ratio,throw_ratio', [(0.45, 0.40), (0.75, 0.0), (0.3, 0.5)])
def test_sets_are_disjoint_complete_and_exact(mask_ratio, throw_ratio):
    weights = torch.rand(16, 196) ** 4
    plan = sample_plan(weights, mask_ratio, throw_ratio)
    counts = plan_counts(196, mask_ratio, throw_ratio)
    _check_partition(plan, 196, counts)
    labels = plan.to_labels()
    for label, count in zip((1, 2, 0), counts):
        assert (labels == label).sum(dim=1).eq(count).all()


def test_uniform_weights_mask_each_patch_with_probability_mask_ratio():
    generator = torch.Generator().manual_seed(0)
    draws, num_patches = 4000, 64
    plan = sample_plan(torch.ones(draws, num_patches), 0.45, 0.40, generator=generator)
    labels = plan.to_labels().float()
    n_masked, n_thrown, _ = plan_counts(num_patches, 0.45, 0.40)
    masked_rate = (labels == 1).float().mean(0)
    thrown_rate = (labels == 2).float().mean(0)
    # binomial std over 4000 draws is < 0.008: 0.04 is 5 sigma
    assert torch.allclose(masked_rate, torch.full_like(masked_rate, n_masked / num_patches), atol=0.04)
    assert torch.allclose(thrown_rate, torch.full_like(thrown_rate, n_thrown / num_patches), atol=0.04)


def test_skewed_weights_mask_heavy_patches_and_keep_light_ones_visible():
    generator = torch.Generator().manual_seed(1)
    num_patches = 100
    weights = torch.linspace(0.01, 1.0, num_patches).expand(2000, -1) ** 3
    plan = sample_plan(weights, 0.45, 0.40, generator=generator)
    mean_weight = lambda ids: weights.gather(1, ids).mean()  # noqa: E731
    assert mean_weight(plan.masked) > mean_weight(plan.thrown) > mean_weight(plan.visible)
    labels = plan.to_labels().float()
    heaviest, lightest = labels[:, -10:], labels[:, :10]
    assert (heaviest == 1).float().mean() > 0.8
    assert (lightest == 0).float().mean() > (heaviest == 0).float().mean() + 0.3


@pytest.mark.parametrize('rounding', ['floor_cumulative', 'ceil_each'])
def test_sample_plan_uses_the_rounding(rounding):
    plan = sample_plan(torch.rand(3, 49), 0.44, 0.26, rounding=rounding)
    _check_partition(plan, 49, plan_counts(49, 0.44, 0.26, rounding))


def test_throw_from_lowest_throws_the_last_drawn_and_keeps_the_middle_visible():
    num_patches = 100
    weights = torch.linspace(0.01, 1.0, num_patches).expand(2000, -1) ** 3
    plans = {
        throw_from: sample_plan(weights, 0.45, 0.40, torch.Generator().manual_seed(3), throw_from=throw_from)
        for throw_from in ('middle', 'lowest')
    }
    middle, lowest = plans['middle'], plans['lowest']
    _check_partition(lowest, num_patches, plan_counts(num_patches, 0.45, 0.40))
    # the same draw: the masked set is unchanged, the rest is cut the other way round
    assert torch.equal(middle.masked, lowest.masked)
    rest = lambda plan: torch.cat([plan.visible, plan.thrown], 1).sort(1).values  # noqa: E731
    assert torch.equal(rest(middle), rest(lowest))
    mean_weight = lambda ids: weights.gather(1, ids).mean()  # noqa: E731
    assert mean_weight(middle.thrown) > mean_weight(middle.visible)
    assert mean_weight(lowest.thrown) < mean_weight(lowest.visible)
    assert mean_weight(lowest.masked) > mean_weight(lowest.visible) > mean_weight(lowest.thrown)


def test_throw_from_lowest_without_throwing_is_plain_guided_masking():
    plan = sample_plan(torch.rand(2, 16), 0.5, 0.0, throw_from='lowest')
    _check_partition(plan, 16, (8, 0, 8))
    with pytest.raises(ValueError, match="throw_from must be one of 'middle', 'lowest'"):
        sample_plan(torch.rand(2, 16), 0.5, 0.25, throw_from='highest')


def test_inclusion_follows_the_weights_for_a_single_draw():
    # one masked patch out of two: P(first) = w0 / (w0 + w1) for a weighted draw without replacement
    generator = torch.Generator().manual_seed(2)
    plan = sample_plan(torch.tensor([[3.0, 1.0]]).expand(20000, -1), 0.5, 0.0, generator=generator)
    share_first = (plan.masked[:, 0] == 0).float().mean().item()
    assert abs(share_first - 0.75) < 0.015


def test_non_finite_rows_fall_back_to_uniform_without_nan():
    weights = torch.rand(4, 10)
    weights[1, 3] = float('nan')
    weights[2] = 0.0
    weights[3, 0] = float('inf')
    clean, bad = sanitize_weights(weights)
    assert bad.tolist() == [False, True, True, True]
    assert torch.equal(clean[1:], torch.ones(3, 10))
    assert torch.equal(clean[0], weights[0])
    _check_partition(sample_plan(weights, 0.5, 0.2), 10, plan_counts(10, 0.5, 0.2))


@pytest.mark.parametrize(
    'mask_ratio,throw_ratio,match',
    [
        (1.0, 0.0, 'mask_ratio must lie in'),
        (-0.1, 0.0, 'mask_ratio must lie in'),
        (0.5, 1.2, 'throw_ratio must lie in'),
        (0.6, 0.4, 'mask_ratio \\+ throw_ratio must be below 1'),
        (0.001, 0.0, 'masks no patch'),
    ],
)
def test_bad_ratios_raise_errors_naming_the_setting(mask_ratio, throw_ratio, match):
    with pytest.raises(ValueError, match=match):
        plan_counts(196, mask_ratio, throw_ratio)


def test_gather_tokens_picks_rows_per_sample():
    tokens = torch.arange(2 * 5 * 3).reshape(2, 5, 3)
    ids = torch.tensor([[4, 0], [1, 1]])
    assert torch.equal(gather_tokens(tokens, ids)[0, 0], tokens[0, 4])
    assert torch.equal(gather_tokens(tokens, ids)[1, 1], tokens[1, 1])


def test_the_core_imports_without_openmmlab():
    import subprocess
    import sys

    code = (
        'import sys\n'
        'for name in ("mmengine", "mmcv", "mmpretrain"): sys.modules[name] = None\n'
        'import torch, famt_mm.core as core\n'
        'plan = core.sample_plan(torch.rand(2, 16), 0.5, 0.25)\n'
        'assert plan.visible.shape == (2, 4)\n'
        'assert "mmengine" not in [m for m, v in sys.modules.items() if v is not None]\n'
    )
    subprocess.run([sys.executable, '-c', code], check=True)


def test_masked_indicator_and_kept_agree_with_the_labels():
    plan = sample_plan(torch.rand(3, 20), 0.4, 0.3)
    labels = plan.to_labels()
    indicator = plan.masked_indicator(torch.float16)
    assert indicator.dtype == torch.float16 and indicator.shape == (3, 20)
    assert torch.equal(indicator.bool(), labels == 1)
    assert torch.equal(plan.kept, torch.cat((plan.visible, plan.masked), dim=1))
    assert not (labels.gather(1, plan.kept) == 2).any()  # nothing thrown is kept
