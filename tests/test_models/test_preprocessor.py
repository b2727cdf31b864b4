"""The throwing data preprocessor: warm-up, guided sampling, and its errors."""

import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from famt_mm.core import plan_counts
from famt_mm.testing import tiny_mae_cfg


def _preprocessor(generator=None, **kwargs):
    cfg = dict(
        type='FAMTDataPreprocessor',
        mask_generator=generator or dict(type='FAMTMaskGenerator'),
        patch_size=4,
        mean=[0.0] * 3,
        std=[1.0] * 3,
    )
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _batch(batch=4, size=16, box=(0.0, 0.0, 1.0, 1.0), flip=False, with_idx=True, with_box=True):
    samples = []
    for i in range(batch):
        meta = {}
        if with_idx:
            meta['sample_idx'] = i
        if with_box:
            meta['crop_box'] = np.array(box, dtype=np.float32)
        meta.update(flip=flip, flip_direction='horizontal' if flip else None)
        samples.append(DataSample(metainfo=meta))
    return dict(inputs=torch.randint(0, 255, (batch, 3, size, size), dtype=torch.uint8), data_samples=samples)


def test_warm_up_is_random_mae_masking_without_throwing():
    preprocessor = _preprocessor()
    assert not preprocessor.guided
    plan = preprocessor(_batch(), training=True)['mask_plan']
    assert (plan.masked.shape[1], plan.thrown.shape[1], plan.visible.shape[1]) == plan_counts(16, 0.75, 0.0)


def test_no_plan_outside_training():
    assert 'mask_plan' not in _preprocessor()(_batch(), training=False)


def test_guided_plan_follows_the_stored_map_through_the_view():
    preprocessor = _preprocessor(dict(type='FAMTMaskGenerator', mask_ratio=0.25, throw_ratio=0.25))
    maps = torch.full((4, 4, 4), 1e-3)
    maps[:, 0, 3] = 1.0  # a hot top-right cell in every image
    preprocessor.importance_cache.set(maps)
    assert preprocessor.guided
    hits_plain = hits_flipped = 0
    for _ in range(50):
        plain = preprocessor(_batch(), training=True)['mask_plan']
        assert (plain.masked.shape[1], plain.thrown.shape[1]) == plan_counts(16, 0.25, 0.25)[:2]
        hits_plain += (plain.masked == 3).sum().item()  # patch (0, 3)
        flipped = preprocessor(_batch(flip=True), training=True)['mask_plan']
        hits_flipped += (flipped.masked == 0).sum().item()  # mirrored: patch (0, 0)
    assert hits_plain > 0.9 * 200 and hits_flipped > 0.9 * 200


def test_random_generator_needs_no_maps_and_uses_its_ratios():
    preprocessor = _preprocessor(dict(type='FAMTRandomMaskGenerator', mask_ratio=0.5, throw_ratio=0.25))
    plan = preprocessor(_batch(with_idx=False, with_box=False), training=True)['mask_plan']
    assert (plan.masked.shape[1], plan.thrown.shape[1]) == (8, 4)


def test_unit_size_samples_masking_units_and_hands_over_patches():
    preprocessor = _preprocessor(
        dict(type='FAMTMaskGenerator', mask_ratio=0.5, throw_ratio=0.25), unit_size=8
    )
    preprocessor.importance_cache.set(torch.rand(4, 4, 4))
    plan = preprocessor(_batch(), training=True)['mask_plan']
    # 2x2 units of 8 px (2x2 patches each) on a 16 px image: 2 masked, 1 thrown, 1 visible unit
    assert (plan.masked.shape[1], plan.thrown.shape[1], plan.visible.shape[1]) == (8, 4, 4)
    labels = plan.to_labels().reshape(4, 2, 2, 2, 2).permute(0, 1, 3, 2, 4).reshape(4, 4, 4)
    assert torch.all(labels == labels[:, :, :1]), 'the patches of a unit share its fate'


def test_nan_maps_still_give_a_finite_loss():
    model = MODELS.build(tiny_mae_cfg())
    maps = torch.rand(4, 4, 4)
    maps[1] = float('nan')
    model.data_preprocessor.importance_cache.set(maps)
    data = model.data_preprocessor(_batch(), training=True)
    assert torch.isfinite(model(**data, mode='loss')['loss'])


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(with_idx=False), 'has no sample_idx'),
        (dict(with_box=False), 'has no crop_box'),
        (dict(size=18), 'image size 18x18 is not a multiple of patch_size=4'),
    ],
)
def test_bad_batches_raise_clear_errors(kwargs, match):
    preprocessor = _preprocessor()
    preprocessor.importance_cache.set(torch.rand(4, 4, 4))
    with pytest.raises(ValueError, match=match):
        preprocessor(_batch(**kwargs), training=True)


def test_sample_idx_outside_the_cache_is_an_error():
    preprocessor = _preprocessor()
    preprocessor.importance_cache.set(torch.rand(2, 4, 4))
    with pytest.raises(ValueError, match='outside the importance cache of 2 maps'):
        preprocessor(_batch(), training=True)


@pytest.mark.parametrize(
    'generator,match',
    [
        (dict(type='FAMTMaskGenerator', mask_ratio=1.0), 'mask_ratio must lie in \\[0, 1\\)'),
        (dict(type='FAMTMaskGenerator', throw_ratio=-0.1), 'throw_ratio must lie in \\[0, 1\\)'),
        (dict(type='AMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.5), 'must be below 1'),
        (dict(type='FAMTMaskGenerator', warmup_mask_ratio=1.5), 'mask_ratio must lie in'),
        (dict(type='FAMTMaskGenerator', sigma_ratio=0), 'sigma_ratio must be positive'),
    ],
)
def test_bad_generator_settings_raise(generator, match):
    with pytest.raises(ValueError, match=match):
        _preprocessor(generator)


def test_unit_size_must_be_a_multiple_of_patch_size():
    with pytest.raises(ValueError, match='unit_size must be a positive multiple of patch_size=4'):
        _preprocessor(unit_size=6)


def test_the_training_plan_is_the_caches_view_weights_through_plan_from_weights():
    from famt_mm.core import plan_from_weights
    from famt_mm.models.masking.data_preprocessor import _view_metainfo

    preprocessor = _preprocessor(
        dict(type='FAMTMaskGenerator', mask_ratio=0.5, throw_ratio=0.25), unit_size=8
    )
    preprocessor.importance_cache.set(torch.rand(4, 3, 3))
    batch = _batch(box=(0.1, 0.2, 0.9, 0.7), flip=True)
    inputs = batch['inputs'].float()
    torch.manual_seed(5)
    plan = preprocessor.sample_mask_plan(inputs, batch['data_samples'])
    weights = preprocessor.importance_cache.view_weights(*_view_metainfo(batch['data_samples'], 4), (4, 4))
    torch.manual_seed(5)
    expected = plan_from_weights(weights, (4, 4), 2, 0.5, 0.25)
    assert all(torch.equal(a, b) for a, b in zip(plan, expected))
    assert preprocessor.plan_settings(guided=False) == dict(
        mask_ratio=0.75, throw_ratio=0.0, rounding='floor_cumulative', throw_from='middle'
    )
