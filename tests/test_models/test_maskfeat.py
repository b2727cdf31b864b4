"""FAMT-MaskFeat against stock mmpretrain MaskFeat; the plan's masking and throwing reach the ViT."""

import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from famt_mm.core import MaskPlan, sample_plan
from famt_mm.testing import tiny_maskfeat_cfg
from famt_mm.testing.equivalence import (
    assert_gradient_by_role,
    assert_same_loss_and_grads,
    build_famt_and_stock,
    guided_batch,
    stock_cfg,
)

L = 196  # 14 x 14 patches of 4 px at 56 px


def _models():
    cfg = tiny_maskfeat_cfg()
    return build_famt_and_stock(cfg, stock_cfg(cfg, 'MaskFeat', backbone=dict(type='MaskFeatViT')))


def test_throw_zero_equals_stock_maskfeat_for_the_same_masked_patches():
    famt, stock = _models()
    inputs = torch.randn(2, 3, 56, 56)
    order = torch.rand(2, L).argsort(dim=1)
    plan = MaskPlan(visible=order[:, 78:], masked=order[:, :78], thrown=order[:, :0])
    mask = torch.zeros(2, L, dtype=torch.bool).scatter_(1, plan.masked, True)
    samples = [DataSample(mask=m.reshape(14, 14)) for m in mask]
    stock_loss = stock.loss(inputs, samples)['loss']
    famt_loss = famt.loss(inputs, [], mask_plan=plan)['loss']
    assert_same_loss_and_grads(famt, famt_loss, stock, stock_loss, atol=1e-7)
    assert famt.backbone.mask_token.grad.abs().sum() > 0


def test_thrown_patches_leave_the_sequence_and_get_no_gradient():
    famt, _ = _models()
    plan = sample_plan(torch.rand(2, L), 0.4, 0.3)
    n_masked, n_thrown = plan.masked.shape[1], plan.thrown.shape[1]
    assert (n_masked, n_thrown) == (78, 59)
    lengths = []
    famt.backbone.layers[0].register_forward_pre_hook(lambda m, args: lengths.append(args[0].shape[1]))
    inputs = torch.randn(2, 3, 56, 56, requires_grad=True)
    famt.loss(inputs, [], mask_plan=plan)['loss'].backward()
    assert lengths == [1 + L - n_thrown]
    # gradient reaches the image only through the visible patches (masked ones are [MASK] tokens;
    # HOG targets are computed without gradient)
    grad = inputs.grad.abs().sum(1).reshape(2, 14, 4, 14, 4).permute(0, 1, 3, 2, 4).reshape(2, L, 16)
    per_patch = grad.sum(-1)
    assert_gradient_by_role(per_patch, plan, masked_get_gradient=False)


def test_the_preprocessor_plan_reaches_the_backbone_in_loss_mode():
    famt, _ = _models()
    data = guided_batch(famt, torch.randint(0, 255, (2, 3, 56, 56), dtype=torch.uint8), (14, 14))
    seen = []
    famt.backbone.layers[0].register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[1]))
    assert torch.isfinite(famt(**data, mode='loss')['loss'])
    assert seen == [1 + L - 59]  # guided: 78 masked, int(196 * 0.7) - 78 = 59 thrown


def test_whole_image_call_is_plain_and_a_mask_argument_is_refused():
    famt, _ = _models()
    famt.eval()
    inputs = torch.randn(1, 3, 56, 56)
    (tokens,) = famt.extract_feat(inputs)
    assert tokens.shape == (1, 1 + L, 32)
    with pytest.raises(ValueError, match='FAMTMaskFeatViT takes its masking as mask_plan'):
        famt.backbone(inputs, mask=torch.zeros(1, L, dtype=torch.bool))


def test_a_patch_grid_the_hog_target_cannot_cover_is_a_clear_error():
    cfg = tiny_maskfeat_cfg()
    cfg['backbone']['patch_size'] = cfg['data_preprocessor']['patch_size'] = 8  # 7 x 7 patches
    famt = MODELS.build(cfg)
    with pytest.raises(ValueError, match='HOG target has 196 cells per image but the plan covers 49'):
        famt.loss(torch.randn(1, 3, 56, 56), [], mask_plan=sample_plan(torch.rand(1, 49), 0.4, 0.3))
