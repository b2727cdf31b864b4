"""FAMT-MAE against stock mmpretrain MAE; thrown patches never reach the encoder or the loss."""

import pytest
import torch
from mmpretrain.registry import MODELS

from famt_mm.core import plan_counts, sample_plan
from famt_mm.testing import tiny_mae_cfg
from famt_mm.testing.equivalence import (
    assert_gradient_by_role,
    assert_same_loss_and_grads,
    build_famt_and_stock,
    replay_random_plan,
    stock_cfg,
)


def _models():
    cfg = tiny_mae_cfg(img_size=16, patch_size=4)
    return build_famt_and_stock(
        cfg,
        stock_cfg(
            cfg, 'MAE', backbone=dict(type='MAEViT', mask_ratio=0.75), neck=dict(type='MAEPretrainDecoder')
        ),
    )


def test_throw_zero_equals_stock_mae_for_the_same_index_sets():
    famt, stock = _models()
    inputs = torch.randn(3, 3, 16, 16)
    num_patches, len_keep = 16, 4
    # stock MAEViT draws torch.rand(B, L) first: replay it to get the same index sets
    plan = replay_random_plan(123, 3, num_patches, len_keep)
    stock_loss = stock.loss(inputs, [])['loss']
    famt_loss = famt.loss(inputs, [], mask_plan=plan)['loss']
    assert_same_loss_and_grads(famt, famt_loss, stock, stock_loss)


def test_thrown_patches_are_absent_from_encoder_and_decoder_and_get_no_gradient():
    famt, _ = _models()
    num_patches = 16
    n_masked, n_thrown, n_visible = plan_counts(num_patches, 0.45, 0.40)
    assert n_thrown > 0
    plan = sample_plan(torch.rand(2, num_patches), 0.45, 0.40)
    lengths = {}
    famt.backbone.layers[0].register_forward_pre_hook(
        lambda m, args: lengths.__setitem__('encoder', args[0].shape[1])
    )
    famt.neck.decoder_blocks[0].register_forward_pre_hook(
        lambda m, args: lengths.__setitem__('decoder', args[0].shape[1])
    )
    inputs = torch.randn(2, 3, 16, 16, requires_grad=True)
    loss = famt.loss(inputs, [], mask_plan=plan)['loss']
    assert lengths == {'encoder': 1 + n_visible, 'decoder': 1 + n_visible + n_masked}
    loss.backward()
    # per-patch gradient magnitude of the input image (4x4 patches of 4x4 px)
    grad = inputs.grad.abs().sum(1).reshape(2, 4, 4, 4, 4).permute(0, 1, 3, 2, 4).reshape(2, 16, 16)
    per_patch = grad.sum(-1)
    assert_gradient_by_role(per_patch, plan, masked_get_gradient=True)


def test_loss_covers_masked_patches_only():
    famt, _ = _models()
    plan = sample_plan(torch.ones(2, 16), 0.5, 0.25)
    inputs = torch.randn(2, 3, 16, 16)
    base = famt.loss(inputs, [], mask_plan=plan)['loss']
    # changing the pixels of thrown patches changes nothing
    perturbed = inputs.clone()
    labels = plan.to_labels().reshape(2, 4, 4)
    thrown_pixels = (labels == 2).repeat_interleave(4, 1).repeat_interleave(4, 2)
    perturbed[thrown_pixels[:, None].expand(-1, 3, -1, -1)] += 5.0
    assert torch.equal(famt.loss(perturbed, [], mask_plan=plan)['loss'], base)


def test_loss_mode_without_a_plan_is_a_clear_error():
    famt, _ = _models()
    with pytest.raises(ValueError, match='needs a mask_plan'):
        famt(torch.randn(1, 3, 16, 16), [], mode='loss')


def test_patch_size_mismatch_between_preprocessor_and_backbone_is_an_error():
    cfg = tiny_mae_cfg(img_size=16, patch_size=4)
    cfg['data_preprocessor']['patch_size'] = 8
    with pytest.raises(ValueError, match='patch_size=8 differs'):
        MODELS.build(cfg)


def test_whole_image_features_for_probing_and_scoring():
    famt, _ = _models()
    famt.eval()
    (tokens,) = famt.extract_feat(torch.randn(2, 3, 16, 16))
    assert tokens.shape == (2, 17, 32)


def test_backbone_takes_the_plan_as_mask_plan_and_is_plain_otherwise():
    famt, _ = _models()
    famt.eval()
    inputs = torch.randn(2, 3, 16, 16)
    plan = sample_plan(torch.rand(2, 16), 0.45, 0.40)
    assert famt.backbone(inputs, mask_plan=plan).shape == (2, 1 + plan.visible.shape[1], 32)
    (plain,) = famt.backbone(inputs)
    assert torch.equal(plain, famt.extract_feat(inputs)[0])  # extract_feat passes mask=None
    with pytest.raises(ValueError, match='FAMTMAEViT takes its masking as mask_plan=MaskPlan'):
        famt.backbone(inputs, mask=True)
