"""The mask generator's ablation switches and per-algorithm rounding (docs/method.md sections 4-6).

Each switch is checked for its effect on the weights or on the plan, end to end through a built
preprocessor where the plan is concerned.
"""

import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from famt_mm.core import famt_attention, famt_weights, frequency_factor


def _generator(**kwargs):
    return MODELS.build(dict(type='FAMTMaskGenerator', **kwargs))


def _last_block(seed=0, batch=2, num_patches=16, heads=3, dims=8):
    generator = torch.Generator().manual_seed(seed)
    attn = torch.randn(batch, heads, num_patches + 1, num_patches + 1, generator=generator)
    return attn.mul(2).softmax(-1), torch.randn(batch, num_patches + 1, dims, generator=generator)


def _preprocessor(generator, patch_size=16, unit_size=None):
    return MODELS.build(
        dict(
            type='FAMTDataPreprocessor',
            mask_generator=generator,
            patch_size=patch_size,
            unit_size=unit_size,
            mean=[0.0] * 3,
            std=[1.0] * 3,
        )
    )


def _batch(batch=2, size=224):
    samples = [
        DataSample(
            metainfo=dict(sample_idx=i, crop_box=np.array([0, 0, 1, 1.0], dtype=np.float32), flip=False)
        )
        for i in range(batch)
    ]
    return dict(inputs=torch.randint(0, 255, (batch, 3, size, size), dtype=torch.uint8), data_samples=samples)


def _counts(plan):
    return plan.masked.shape[1], plan.thrown.shape[1], plan.visible.shape[1]


# ---- defaults: the published behaviour ---------------------------------------------------------


def test_defaults_are_famt_as_published():
    generator = _generator()
    assert generator.settings() == dict(
        mask_ratio=0.45,
        throw_ratio=0.40,
        warmup_mask_ratio=0.75,
        count_rounding='floor_cumulative',
        throw_mode='middle',
        weight_source='fused',
        attention_terms=('cls', 'img'),
        frequency_filter='lowpass',
        sigma_ratio=0.075,
    )
    attn, tokens = _last_block()
    assert torch.equal(generator.importance(attn, tokens), famt_weights(attn, tokens))
    assert 'weight_source' in repr(generator)


# ---- weight switches: their effect on the importance weights -----------------------------------


def test_weight_source_switch():
    attn, tokens = _last_block(1)
    fused = _generator().importance(attn, tokens)
    attention = _generator(weight_source='attention').importance(attn, tokens)
    frequency = _generator(weight_source='frequency').importance(attn, tokens)
    assert torch.allclose(attention, famt_attention(attn))
    assert torch.allclose(frequency, frequency_factor(tokens[:, 1:]))
    assert torch.allclose(fused, attention * frequency)
    assert not torch.allclose(fused, attention) and not torch.allclose(fused, frequency)


@pytest.mark.parametrize('terms', [('cls',), ('img',), ['cls', 'img']])
def test_attention_terms_switch(terms):
    attn, tokens = _last_block(2)
    weights = _generator(weight_source='attention', attention_terms=terms).importance(attn, tokens)
    assert torch.allclose(weights, famt_attention(attn, terms))
    fused = _generator(attention_terms=terms).importance(attn, tokens)
    assert torch.allclose(fused, famt_attention(attn, terms) * frequency_factor(tokens[:, 1:]))


def test_single_attention_terms_change_the_weights():
    attn, tokens = _last_block(3)
    both, cls_only, img_only = (
        _generator(weight_source='attention', attention_terms=terms).importance(attn, tokens)
        for terms in (('cls', 'img'), ('cls',), ('img',))
    )
    assert torch.allclose(both, cls_only + img_only)
    assert (cls_only > 0).all() and (img_only > 0).all()


@pytest.mark.parametrize('frequency_filter', ['none', 'lowpass', 'lowpass_symmetric'])
def test_frequency_filter_switch(frequency_filter):
    attn, tokens = _last_block(4)
    generator = _generator(weight_source='frequency', frequency_filter=frequency_filter)
    expected = frequency_factor(tokens[:, 1:], filter=frequency_filter)
    assert torch.allclose(generator.importance(attn, tokens), expected)
    if frequency_filter != 'lowpass':
        assert not torch.allclose(expected, frequency_factor(tokens[:, 1:]), atol=1e-4)


def test_sigma_ratio_switch():
    attn, tokens = _last_block(5)
    wide = _generator(sigma_ratio=0.2).importance(attn, tokens)
    assert torch.allclose(wide, famt_weights(attn, tokens, 0.2))
    assert not torch.allclose(wide, _generator().importance(attn, tokens), atol=1e-4)


# ---- plan switches: their effect on the plan, through a built preprocessor -----------------------


def test_simmim_counts_end_to_end_22_13_14():
    """224 px, 7x7 units of 32 px (2x2 patches of 16 px), SimMIM's reference rounding and warm-up."""
    preprocessor = _preprocessor(
        dict(
            type='FAMTMaskGenerator',
            mask_ratio=0.44,
            throw_ratio=0.26,
            warmup_mask_ratio=0.44,
            count_rounding='ceil_each',
        ),
        unit_size=32,
    )
    warm_up = preprocessor(_batch(), training=True)['mask_plan']
    assert _counts(warm_up) == (22 * 4, 0, 27 * 4)  # ceil(49 * 0.44) units, no throwing
    preprocessor.importance_cache.set(torch.rand(2, 14, 14))
    guided = preprocessor(_batch(), training=True)['mask_plan']
    assert _counts(guided) == (22 * 4, 13 * 4, 14 * 4)
    labels = guided.to_labels().reshape(2, 7, 2, 7, 2).permute(0, 1, 3, 2, 4).reshape(2, 49, 4)
    assert [(labels[:, :, 0] == label).sum(1).tolist() for label in (1, 2, 0)] == [
        [22, 22],
        [13, 13],
        [14, 14],
    ]
    # the same ratios with MAE's rounding give the 21 / 13 / 15 of int() of the cumulative ratios
    mae_rounding = _preprocessor(
        dict(type='FAMTMaskGenerator', mask_ratio=0.44, throw_ratio=0.26), unit_size=32
    )
    mae_rounding.importance_cache.set(torch.rand(2, 14, 14))
    assert _counts(mae_rounding(_batch(), training=True)['mask_plan']) == (84, 52, 60)


def test_mae_counts_end_to_end_88_78_30():
    preprocessor = _preprocessor(dict(type='FAMTMaskGenerator'))
    assert _counts(preprocessor(_batch(), training=True)['mask_plan']) == (147, 0, 49)
    preprocessor.importance_cache.set(torch.rand(2, 14, 14))
    assert _counts(preprocessor(_batch(), training=True)['mask_plan']) == (88, 78, 30)


def test_random_generator_takes_simmim_rounding():
    preprocessor = _preprocessor(
        dict(type='FAMTRandomMaskGenerator', mask_ratio=0.6, count_rounding='ceil_each'), unit_size=32
    )
    assert _counts(preprocessor(_batch(), training=True)['mask_plan']) == (30 * 4, 0, 19 * 4)


def _graded_plan(throw_mode, throw_ratio=0.40, draws=6):
    """Plans of 16 px images (4x4 patches of 4 px) over graded maps; returns (plans, weights)."""
    preprocessor = _preprocessor(
        dict(type='FAMTMaskGenerator', mask_ratio=0.25, throw_ratio=throw_ratio, throw_mode=throw_mode),
        patch_size=4,
    )
    weights = torch.linspace(0.01, 1.0, 16).pow(3).reshape(1, 4, 4).repeat(8, 1, 1)
    preprocessor.importance_cache.set(weights)
    plans = [preprocessor(_batch(8, 16), training=True)['mask_plan'] for _ in range(draws)]
    return plans, weights.flatten(1)


def _mean_weight(plans, weights, field):
    return torch.stack([weights.gather(1, getattr(p, field)).mean() for p in plans]).mean()


def test_throw_mode_switch():
    middle, weights = _graded_plan('middle')
    lowest, _ = _graded_plan('lowest')
    off, _ = _graded_plan('off', throw_ratio=0.0)
    assert _counts(middle[0]) == _counts(lowest[0]) == (4, 6, 6)
    assert _counts(off[0]) == (4, 0, 12)
    # middle (the reference) keeps the lightest patches visible, lowest throws them
    assert _mean_weight(middle, weights, 'thrown') > _mean_weight(middle, weights, 'visible')
    assert _mean_weight(lowest, weights, 'thrown') < _mean_weight(lowest, weights, 'visible')
    # off is guided masking only: the masked patches still follow the weights
    assert _mean_weight(off, weights, 'masked') > 2 * weights.mean()


def test_amt_generator_takes_the_plan_switches():
    preprocessor = _preprocessor(
        dict(
            type='AMTMaskGenerator',
            mask_ratio=0.44,
            throw_ratio=0.26,
            count_rounding='ceil_each',
            throw_mode='lowest',
        ),
        unit_size=32,
    )
    preprocessor.importance_cache.set(torch.rand(2, 14, 14))
    assert _counts(preprocessor(_batch(), training=True)['mask_plan']) == (88, 52, 56)
    assert preprocessor.mask_generator.throw_from == 'lowest'


# ---- bad combinations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(weight_source='amt'), "weight_source must be one of 'fused', 'attention', 'frequency'"),
        (
            dict(frequency_filter='highpass'),
            "frequency_filter must be one of 'none', 'lowpass', 'lowpass_symmetric'",
        ),
        (dict(attention_terms=()), 'attention_terms must name each of'),
        (dict(attention_terms=('cls', 'patch')), 'attention_terms must name each of'),
        (dict(attention_terms='cls'), 'attention_terms must be a sequence'),
        (dict(count_rounding='round'), "count_rounding must be one of 'floor_cumulative', 'ceil_each'"),
        (dict(throw_mode='all'), "throw_mode must be one of 'off', 'middle', 'lowest'"),
        (dict(throw_mode='off'), "throw_mode='off' throws nothing: set throw_ratio=0"),
        (dict(throw_mode='lowest', throw_ratio=0.0), "throw_mode='lowest' has nothing to throw"),
        (
            dict(weight_source='attention', frequency_filter='none'),
            "weight_source='attention' uses no frequency factor",
        ),
        (
            dict(weight_source='attention', sigma_ratio=0.1),
            "weight_source='attention' uses no frequency factor",
        ),
        (
            dict(weight_source='frequency', attention_terms=('cls',)),
            "weight_source='frequency' uses no attention",
        ),
        (dict(frequency_filter='none', sigma_ratio=0.1), "frequency_filter='none' has no kernel"),
        (dict(sigma_ratio=-1.0), 'sigma_ratio must be positive'),
    ],
)
def test_bad_combinations_raise_naming_the_setting(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _generator(**kwargs)


def test_attention_terms_need_a_cls_token():
    attn = torch.rand(2, 3, 9, 9).softmax(-1)
    tokens = torch.randn(2, 9, 6)
    generator = _generator(attention_terms=('img',))
    with pytest.raises(ValueError, match='need a CLS token'):
        generator.importance(attn, tokens, cls_token=False)
    # the other switches apply to backbones without a CLS token (Swin) as well
    frequency = _generator(weight_source='frequency', frequency_filter='lowpass_symmetric')
    assert torch.allclose(
        frequency.importance(attn, tokens, cls_token=False),
        frequency_factor(tokens, filter='lowpass_symmetric'),
    )
