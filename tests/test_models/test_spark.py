"""FAMT-SparK against stock mmpretrain SparK; the plan's visible units are SparK's active units; CNN
scoring is the frequency factor of the last stage's map."""
import pytest
import torch
from mmpretrain.registry import MODELS

from famt_mm.core import frequency_factor, sample_plan
from famt_mm.models import score_images
from famt_mm.testing import tiny_spark_cfg
from famt_mm.testing.equivalence import (
    assert_same_loss_and_grads,
    build_famt_and_stock,
    replay_random_plan,
    stock_cfg,
)

UNITS = 16  # 4 x 4 units of 32 px at 128 px


def _models():
    cfg = tiny_spark_cfg()
    return build_famt_and_stock(cfg, stock_cfg(cfg, 'SparK'))


def test_same_active_units_equal_stock_spark():
    famt, stock = _models()
    inputs = torch.randn(2, 3, 128, 128)
    # stock SparK draws torch.rand(B, f * f) and keeps the first round(16 * 0.4) = 6 as active
    plan = replay_random_plan(5, 2, UNITS, 6)
    stock_loss = stock.loss(inputs, [])['loss']
    famt_loss = famt.loss(inputs, [], mask_plan=plan)['loss']
    assert_same_loss_and_grads(famt, famt_loss, stock, stock_loss)


def test_the_plan_visible_units_are_the_only_pixels_the_encoder_sees():
    famt, _ = _models()
    plan = sample_plan(torch.rand(2, UNITS), 0.6, 0.0)
    seen = {}
    famt.backbone.register_forward_pre_hook(lambda m, args: seen.__setitem__('x', args[0]))
    famt.loss(torch.randn(2, 3, 128, 128) + 5.0, [], mask_plan=plan)
    per_unit = seen['x'].abs().sum(1).reshape(2, 4, 32, 4, 32).permute(0, 1, 3, 2, 4).reshape(2, 16, -1)
    nonzero = per_unit.sum(-1) > 0
    assert torch.equal(nonzero, torch.zeros_like(nonzero).scatter_(1, plan.visible, True))
    assert famt._plan_active is None  # the stock draw is back after the call


def test_whole_image_features_ignore_the_last_training_mask():
    famt, _ = _models()
    famt.eval()
    inputs = torch.randn(2, 3, 128, 128)
    before = famt.extract_feat(inputs)[-1]
    famt.loss(inputs, [], mask_plan=sample_plan(torch.rand(2, UNITS), 0.6, 0.0))
    assert torch.equal(famt.extract_feat(inputs)[-1], before)
    assert (before.abs().sum(1) > 0).all()  # every position active


def test_cnn_scoring_is_the_frequency_factor_of_the_last_feature_map():
    famt, _ = _models()
    famt.eval()
    inputs = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        weights = score_images(famt, inputs, famt.data_preprocessor.mask_generator)
        feature_map = famt.extract_feat(inputs)[-1]  # (2, 64, 4, 4)
    tokens = feature_map.flatten(2).transpose(1, 2)
    assert weights.shape == (2, 4, 4)
    assert torch.allclose(weights.flatten(1), frequency_factor(tokens), atol=1e-6)
    attention_generator = MODELS.build(dict(type='FAMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0,
                                            throw_mode='off'))
    with pytest.raises(ValueError, match='SparseResNet has no attention'):
        score_images(famt, inputs, attention_generator)


@pytest.mark.parametrize('change, message', [
    (dict(mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.4, throw_ratio=0.2,
                              weight_source='frequency')), 'FAMTSparK cannot throw'),
    (dict(mask_generator=dict(type='AMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0,
                              throw_mode='off')), 'has no attention'),
    (dict(mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0,
                              throw_mode='off')), 'has no attention'),
    (dict(patch_size=16), 'must be SparK\'s downsample_raito=32'),
])
def test_settings_a_cnn_cannot_serve_are_refused_at_build_time(change, message):
    cfg = tiny_spark_cfg()
    cfg['data_preprocessor'].update(change)
    with pytest.raises(ValueError, match=message):
        MODELS.build(cfg)


def test_random_masking_needs_no_frequency_source():
    cfg = tiny_spark_cfg(mask_generator=dict(type='RandomMaskGenerator', mask_ratio=0.6))
    assert type(MODELS.build(cfg)).__name__ == 'FAMTSparK'
