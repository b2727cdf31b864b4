"""FAMT-SparK (sparse ResNet and ConvNeXt) against stock mmpretrain SparK: the plan's visible units
are SparK's active units; CNN scoring is the frequency factor of the last stage's map; what a CNN
cannot serve (throwing, attention) is refused, for SparK and A²MIM alike."""

import pytest
import torch
from mmpretrain.models.utils.sparse_modules import SparseHelper
from mmpretrain.registry import MODELS

from famt_mm.core import frequency_factor, sample_plan
from famt_mm.models import score_images
from famt_mm.testing import tiny_spark_cfg, tiny_spark_convnext_cfg
from famt_mm.testing.a2mim import tiny_a2mim_cfg
from famt_mm.testing.equivalence import (
    assert_same_loss_and_grads,
    build_famt_and_stock,
    replay_random_plan,
    stock_cfg,
)

UNITS = 16  # 4 x 4 units of 32 px at 128 px
#: the sparse backbones, by the name their scoring errors give
BACKBONES = {'SparseResNet': tiny_spark_cfg, 'SparseConvNeXt': tiny_spark_convnext_cfg}


def _raise_layer_scale(model):
    # ConvNeXt's layer scale starts at 1e-6, which would hide the blocks' share of loss and gradients
    for name, param in model.named_parameters():
        if name.endswith('gamma'):
            param.fill_(0.5)


def _models(backbone='SparseResNet'):
    cfg = BACKBONES[backbone]()
    return build_famt_and_stock(cfg, stock_cfg(cfg, 'SparK'), prepare=_raise_layer_scale)


@pytest.mark.parametrize('backbone', list(BACKBONES))
def test_same_active_units_equal_stock_spark(backbone):
    famt, stock = _models(backbone)
    assert type(famt.backbone).__name__ == backbone
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


def test_the_plan_is_the_backbones_active_map_and_only_visible_units_carry_features():
    famt, _ = _models('SparseConvNeXt')
    plan = sample_plan(torch.rand(2, UNITS), 0.6, 0.0)
    expected = torch.zeros(2, UNITS, dtype=torch.bool).scatter_(1, plan.visible, True)
    seen = {}
    famt.backbone.register_forward_pre_hook(
        lambda m, args: seen.__setitem__('active', SparseHelper._cur_active.clone())
    )
    famt.backbone.register_forward_hook(lambda m, args, out: seen.__setitem__('maps', out))
    famt.loss(torch.randn(2, 3, 128, 128) + 5.0, [], mask_plan=plan)
    assert torch.equal(seen['active'].reshape(2, UNITS), expected)
    last = seen['maps'][-1]  # (2, 64, 4, 4): one position per unit
    assert torch.equal(last.abs().sum(1).reshape(2, UNITS) > 0, expected)
    first = seen['maps'][0]  # (2, 8, 32, 32): 8 x 8 positions per unit at stride 4
    per_unit = first.abs().sum(1).reshape(2, 4, 8, 4, 8).permute(0, 1, 3, 2, 4).reshape(2, UNITS, -1)
    assert torch.equal(per_unit.sum(-1) > 0, expected)
    assert famt._plan_active is None  # the stock draw is back after the call


@pytest.mark.parametrize('backbone', list(BACKBONES))
def test_whole_image_features_ignore_the_last_training_mask(backbone):
    famt, _ = _models(backbone)
    famt.eval()
    inputs = torch.randn(2, 3, 128, 128)
    before = famt.extract_feat(inputs)[-1]
    famt.loss(inputs, [], mask_plan=sample_plan(torch.rand(2, UNITS), 0.6, 0.0))
    assert torch.equal(famt.extract_feat(inputs)[-1], before)
    assert (before.abs().sum(1) > 0).all()  # every position active


@pytest.mark.parametrize('backbone', list(BACKBONES))
def test_cnn_scoring_is_the_frequency_factor_of_the_last_feature_map(backbone):
    famt, _ = _models(backbone)
    famt.eval()
    inputs = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        weights = score_images(famt, inputs, famt.data_preprocessor.mask_generator)
        feature_map = famt.extract_feat(inputs)[-1]  # (2, 64, 4, 4)
    tokens = feature_map.flatten(2).transpose(1, 2)
    assert weights.shape == (2, 4, 4) and weights.std() > 0
    assert torch.allclose(weights.flatten(1), frequency_factor(tokens), atol=1e-6)
    attention_generator = MODELS.build(
        dict(type='FAMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0, throw_mode='off')
    )
    with pytest.raises(ValueError, match=f'{backbone} has no attention'):
        score_images(famt, inputs, attention_generator)


#: CNN models: the config builder and the error for a patch size other than the output stride
CNN_MODELS = {
    'spark-resnet': (tiny_spark_cfg, "differs from FAMTSparK's plan patch of 32 px"),
    'spark-convnext': (tiny_spark_convnext_cfg, "differs from FAMTSparK's plan patch of 32 px"),
    'a2mim': (tiny_a2mim_cfg, "differs from FAMTA2MIM's plan patch of 32 px"),
}


@pytest.mark.parametrize('model', list(CNN_MODELS))
@pytest.mark.parametrize(
    'change, message',
    [
        (
            dict(
                mask_generator=dict(
                    type='FAMTMaskGenerator', mask_ratio=0.4, throw_ratio=0.2, weight_source='frequency'
                )
            ),
            'cannot throw',
        ),
        (
            dict(mask_generator=dict(type='FAMTRandomMaskGenerator', mask_ratio=0.4, throw_ratio=0.2)),
            'cannot throw',
        ),
        (
            dict(
                mask_generator=dict(
                    type='AMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0, throw_mode='off'
                )
            ),
            'has no attention',
        ),
        (
            dict(
                mask_generator=dict(
                    type='FAMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0, throw_mode='off'
                )
            ),
            'has no attention',
        ),
        (dict(patch_size=16), None),
    ],
    ids=['throw', 'random-throw', 'amt', 'fused-weights', 'patch-size'],
)
def test_settings_a_cnn_cannot_serve_are_refused_at_build_time(model, change, message):
    cfg_builder, patch_message = CNN_MODELS[model]
    cfg = cfg_builder()
    cfg['data_preprocessor'].update(change)
    with pytest.raises(ValueError, match=message or patch_message):
        MODELS.build(cfg)


def test_random_masking_needs_no_frequency_source():
    cfg = tiny_spark_cfg(mask_generator=dict(type='FAMTRandomMaskGenerator', mask_ratio=0.6))
    assert type(MODELS.build(cfg)).__name__ == 'FAMTSparK'
