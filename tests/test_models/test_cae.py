"""FAMT-CAE against stock mmpretrain CAE; thrown patches reach neither the encoder nor the loss."""

import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from famt_mm.core import MaskPlan, sample_plan
from famt_mm.models import beit_last_block_attention
from famt_mm.testing.beit_cae import tiny_cae_cfg
from famt_mm.testing.equivalence import (
    assert_gradient_by_role,
    assert_same_loss_and_grads,
    build_famt_and_stock,
    guided_batch,
    stock_cfg,
)

L = 64  # 8 x 8 patches of 4 px at 32 px; the DALL-E picture is 64 px (8 px per token)


def _models(cfg=None):
    cfg = cfg or tiny_cae_cfg()
    return build_famt_and_stock(cfg, stock_cfg(cfg, 'CAE', backbone=dict(type='CAEPretrainViT')))


def _inputs(batch=2, image=None):
    image = torch.randn(batch, 3, 32, 32) if image is None else image
    return [image, torch.randn(batch, 3, 64, 64)]


def test_throw_zero_equals_stock_cae_for_the_same_masked_patches():
    famt, stock = _models()
    inputs = _inputs()
    order = torch.rand(2, L).argsort(dim=1)
    plan = MaskPlan(visible=order[:, 24:], masked=order[:, :24], thrown=order[:, :0])
    mask = torch.zeros(2, L, dtype=torch.bool).scatter_(1, plan.masked, True)
    samples = [DataSample(mask=m.reshape(8, 8)) for m in mask]
    stock_losses = stock.loss(inputs, samples)
    famt_losses = famt.loss(inputs, [], mask_plan=plan)
    for key in ('main', 'align'):
        assert torch.allclose(famt_losses[key], stock_losses[key], rtol=1e-5, atol=1e-6), key
    assert famt_losses['align'] > 0  # the teacher's target is not trivially the prediction
    assert_same_loss_and_grads(famt, famt_losses['loss'], stock, stock_losses['loss'], atol=1e-6)
    assert famt.neck.mask_token.grad.abs().sum() > 0


def test_thrown_patches_reach_neither_encoder_nor_teacher_nor_loss():
    famt, _ = _models()
    plan = sample_plan(torch.rand(2, L), 0.375, 0.25)
    assert (plan.masked.shape[1], plan.thrown.shape[1], plan.visible.shape[1]) == (24, 16, 24)
    seen = {}

    def record(name, position):
        def hook(module, args, kwargs):
            seen[name] = (args + tuple(kwargs.values()))[position].shape[1]

        return hook

    famt.backbone.layers[0].register_forward_pre_hook(record('encoder', 0), with_kwargs=True)
    famt.teacher.layers[0].register_forward_pre_hook(record('teacher', 0), with_kwargs=True)
    famt.neck.regressors[0].register_forward_pre_hook(record('context', 1), with_kwargs=True)
    image = torch.randn(2, 3, 32, 32, requires_grad=True)
    famt.loss(_inputs(image=image), [], mask_plan=plan)['loss'].backward()
    assert seen == dict(encoder=1 + 24, teacher=1 + 24, context=24 + 24)
    # gradient reaches the image only through the visible patches (the teacher encodes the masked
    # ones without gradient; DALL-E reads the other picture)
    per_patch = image.grad.abs().sum(1).reshape(2, 8, 4, 8, 4).sum((2, 4)).reshape(2, L)
    assert_gradient_by_role(per_patch, plan, masked_get_gradient=False)


def test_the_preprocessor_plan_reaches_the_model_in_loss_mode():
    famt, _ = _models()
    pictures = [torch.randint(0, 255, (2, 3, size, size), dtype=torch.uint8) for size in (32, 64)]
    data = guided_batch(famt, pictures, (8, 8))
    seen = []
    famt.backbone.layers[0].register_forward_pre_hook(
        lambda m, args, kwargs: seen.append(kwargs['x'].shape[1]), with_kwargs=True
    )
    assert torch.isfinite(famt(**data, mode='loss')['loss'])
    assert seen == [1 + 24]  # guided: 24 masked, 16 thrown, 24 encoded


def test_scoring_reads_the_attention_cae_computes():
    famt, _ = _models()
    famt.eval()
    with torch.no_grad():
        famt.backbone.layers[-1].attn.q_bias.normal_()
        famt.backbone.layers[-1].attn.v_bias.normal_()
    real = []
    famt.backbone.layers[-1].attn.attn_drop.register_forward_hook(lambda m, a, out: real.append(out))
    attn, tokens = beit_last_block_attention(famt.backbone, torch.randn(2, 3, 32, 32), famt.extract_feat)
    assert torch.allclose(attn, real[0], atol=1e-6)
    assert tokens.shape == (2, 1 + L, 32)


def test_whole_image_call_is_plain_and_a_mask_argument_is_refused():
    famt, _ = _models()
    famt.eval()
    inputs = torch.randn(1, 3, 32, 32)
    assert famt.extract_feat(inputs)[0].shape == (1, 1 + L, 32)
    with pytest.raises(ValueError, match='FAMTCAEPretrainViT takes its masking as mask_plan'):
        famt.backbone(inputs, mask=torch.zeros(1, L, dtype=torch.bool))


def test_bad_settings_are_clear_errors():
    cfg = tiny_cae_cfg()
    cfg['backbone'].update(use_rel_pos_bias=True)
    with pytest.raises(ValueError, match='FAMTCAEPretrainViT takes use_rel_pos_bias=False'):
        MODELS.build(cfg)
    famt = MODELS.build(tiny_cae_cfg(mask_tokens_num=75))
    plan = sample_plan(torch.rand(1, L), 0.375, 0.25)
    with pytest.raises(ValueError, match='the plan masks 24 patches but the neck holds mask_tokens_num=75'):
        famt.loss(_inputs(1), [], mask_plan=plan)
    famt = MODELS.build(tiny_cae_cfg())
    with pytest.raises(ValueError, match='tokenizer gives 16 tokens per image but the plan covers 64'):
        famt.loss([torch.randn(1, 3, 32, 32)] * 2, [], mask_plan=plan)
    with pytest.raises(ValueError, match='FAMTCAE takes two pictures per image'):
        famt.loss(torch.randn(1, 3, 32, 32), [], mask_plan=plan)
