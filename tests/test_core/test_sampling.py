"""Sampling of masked / thrown / visible sets (FAMT-METHOD section 3)."""
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
    assert plan_counts(49, 0.44, 0.26) == (21, 13, 15)  # SimMIM's 7x7 units


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


@pytest.mark.parametrize('mask_ratio,throw_ratio,match', [
    (1.0, 0.0, 'mask_ratio must lie in'),
    (-0.1, 0.0, 'mask_ratio must lie in'),
    (0.5, 1.2, 'throw_ratio must lie in'),
    (0.6, 0.4, 'mask_ratio \\+ throw_ratio must be below 1'),
    (0.001, 0.0, 'masks no patch'),
])
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
    code = ('import sys\n'
            'for name in ("mmengine", "mmcv", "mmpretrain"): sys.modules[name] = None\n'
            'import torch, famt_mm.core as core\n'
            'plan = core.sample_plan(torch.rand(2, 16), 0.5, 0.25)\n'
            'assert plan.visible.shape == (2, 4)\n'
            'assert "mmengine" not in [m for m, v in sys.modules.items() if v is not None]\n')
    subprocess.run([sys.executable, '-c', code], check=True)
