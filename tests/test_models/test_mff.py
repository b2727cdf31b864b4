"""FAMT-MFF against stock mmpretrain MFF; the plan reaches MFF's fused encoder."""

import pytest
import torch

from famt_mm.core import sample_plan
from famt_mm.testing import tiny_mff_cfg
from famt_mm.testing.equivalence import (
    assert_same_loss_and_grads,
    build_famt_and_stock,
    replay_random_plan,
    stock_cfg,
)


def _models():
    cfg = tiny_mff_cfg()
    stock = stock_cfg(
        cfg, 'MFF', backbone=dict(type='MFFViT', mask_ratio=0.75), neck=dict(type='MAEPretrainDecoder')
    )
    # unequal fusion weights, so that a swapped level would show
    return build_famt_and_stock(
        cfg,
        stock,
        prepare=lambda famt: famt.backbone.proj_weights.copy_(torch.tensor([0.3, 1.2]).view(-1, 1, 1, 1)),
    )


def test_throw_zero_equals_stock_mff_for_the_same_index_sets():
    famt, stock = _models()
    inputs = torch.randn(3, 3, 16, 16)
    # stock MFFViT draws torch.rand(B, L) first (MAE's random_masking): replay it
    plan = replay_random_plan(7, 3, 16, 4)
    stock_losses = stock.loss(inputs, [])
    famt_losses = famt.loss(inputs, [], mask_plan=plan)
    assert set(famt_losses) == set(stock_losses) == {'loss', 'weight_0', 'weight_1'}
    for key in ('weight_0', 'weight_1'):
        assert torch.allclose(famt_losses[key], stock_losses[key], rtol=1e-5, atol=1e-6), key
    assert_same_loss_and_grads(famt, famt_losses['loss'], stock, stock_losses['loss'])
    assert famt.backbone.proj_weights.grad.abs().sum() > 0  # the fusion is trained


def test_the_plan_reaches_the_fused_encoder_and_thrown_patches_get_no_gradient():
    famt, _ = _models()
    plan = sample_plan(torch.rand(2, 16), 0.45, 0.40)
    lengths = []
    famt.backbone.layers[0].register_forward_pre_hook(lambda m, args: lengths.append(args[0].shape[1]))
    famt.backbone.proj_layers[0].register_forward_pre_hook(lambda m, args: lengths.append(args[0].shape[1]))
    inputs = torch.randn(2, 3, 16, 16, requires_grad=True)
    famt.loss(inputs, [], mask_plan=plan)['loss'].backward()
    assert lengths == [1 + plan.visible.shape[1]] * 2
    grad = inputs.grad.abs().sum(1).reshape(2, 4, 4, 4, 4).permute(0, 1, 3, 2, 4).reshape(2, 16, 16)
    per_patch = grad.sum(-1)
    assert torch.all(per_patch.gather(1, plan.thrown) == 0)
    assert torch.all(per_patch.gather(1, plan.visible) > 0)


def test_whole_image_call_is_the_plain_vit_and_a_mask_argument_is_refused():
    famt, _ = _models()
    famt.eval()
    inputs = torch.randn(2, 3, 16, 16)
    outs = famt.extract_feat(inputs)  # one output per fused block, as stock MFFViT
    assert [o.shape for o in outs] == [(2, 17, 32)] * 2
    with pytest.raises(ValueError, match='FAMTMFFViT takes its masking as mask_plan'):
        famt.backbone(inputs, mask=True)


def test_preprocessor_plan_drives_the_loss():
    famt, _ = _models()
    famt.train()
    data = dict(inputs=torch.randint(0, 255, (2, 3, 16, 16), dtype=torch.uint8), data_samples=None)
    seen = []
    famt.backbone.layers[0].register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[1]))
    data = famt.data_preprocessor(data, training=True)
    losses = famt(**data, mode='loss')
    # warm-up of the FAMT generator: 0.75 random masking, no throwing -> 4 visible of 16
    assert seen == [1 + 4] and torch.isfinite(losses['loss'])
