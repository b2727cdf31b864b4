"""FAMT-BEiT (v1, v2) against stock mmpretrain BEiT; the plan's masking and throwing reach the ViT."""

import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from famt_mm.core import MaskPlan, sample_plan
from famt_mm.models import beit_last_block_attention, score_images
from famt_mm.models.selfsup.beit import kept_rel_pos_bias
from famt_mm.testing.beit_cae import tiny_beit_cfg, tiny_beitv2_cfg, tiny_cae_cfg
from famt_mm.testing.equivalence import (
    assert_gradient_by_role,
    assert_same_loss_and_grads,
    build_famt_and_stock,
    guided_batch,
    stock_cfg,
    uncropped_samples,
)

L = 64  # 8 x 8 patches of 4 px at 32 px


def _models(cfg):
    return build_famt_and_stock(cfg, stock_cfg(cfg, 'BEiT', backbone=dict(type='BEiTPretrainViT')))


def _inputs(batch=2, second=32):
    return [torch.randn(batch, 3, 32, 32), torch.randn(batch, 3, second, second)]


def _plan(order, n_masked, n_thrown):
    return MaskPlan(
        visible=order[:, n_masked + n_thrown :],
        masked=order[:, :n_masked],
        thrown=order[:, n_masked : n_masked + n_thrown],
    )


def _samples(masked):
    mask = torch.zeros(masked.shape[0], L, dtype=torch.bool).scatter_(1, masked, True)
    return [DataSample(mask=m.reshape(8, 8)) for m in mask]


def _total(losses):
    return sum(v for k, v in losses.items() if k.startswith('loss'))


@pytest.mark.parametrize('cfg', [tiny_beitv2_cfg, tiny_beit_cfg], ids=['v2', 'v1'])
def test_throw_zero_equals_stock_beit_for_the_same_masked_patches(cfg):
    famt, stock = _models(cfg())
    second = 32 if cfg is tiny_beitv2_cfg else 64
    inputs = _inputs(second=second)
    plan = _plan(torch.rand(2, L).argsort(dim=1), 24, 0)
    stock_losses = stock.loss(inputs, _samples(plan.masked))
    famt_losses = famt.loss(inputs, [], mask_plan=plan)
    assert set(famt_losses) == set(stock_losses)
    assert_same_loss_and_grads(famt, _total(famt_losses), stock, _total(stock_losses), atol=1e-6)
    assert famt.backbone.mask_token.grad.abs().sum() > 0
    assert famt.backbone.rel_pos_bias.relative_position_bias_table.grad.abs().sum() > 0


def test_throwing_equals_stock_beitv2_with_the_thrown_positions_cut_out_of_attention():
    """Throwing is exact: stock BEiT v2 whose shared bias hides the thrown positions from every
    query (-inf columns) computes the same kept tokens, hence the same loss and gradients."""
    famt, stock = _models(tiny_beitv2_cfg())
    order = torch.rand(1, L).argsort(dim=1).expand(2, -1)  # one thrown set: the bias is shared
    plan = _plan(order, 24, 16)
    hidden = torch.zeros(1 + L, 1 + L)
    hidden[:, 1 + plan.thrown[0]] = float('-inf')
    original = stock.backbone.rel_pos_bias.forward
    stock.backbone.rel_pos_bias.forward = lambda: original() + hidden
    inputs = _inputs()
    stock_losses = stock.loss(inputs, _samples(plan.masked))
    famt_losses = famt.loss(inputs, [], mask_plan=plan)
    assert_same_loss_and_grads(famt, _total(famt_losses), stock, _total(stock_losses), atol=1e-6)


def test_kept_rel_pos_bias_takes_the_rows_and_columns_of_cls_and_the_kept_patches():
    bias = torch.randn(2, 1 + 5, 1 + 5)
    kept = torch.tensor([[4, 0], [2, 3]])
    out = kept_rel_pos_bias(bias, kept)
    assert out.shape == (2, 2, 3, 3)
    assert torch.equal(out[1, :, 1, 2], bias[:, 3, 4])  # image 1: patch 2 -> patch 3
    assert torch.equal(out[0, :, 0, 1], bias[:, 0, 5])  # CLS -> patch 4
    assert torch.equal(out[0, :, 2, 2], bias[:, 1, 1])


def test_thrown_patches_leave_the_sequence_and_get_no_gradient():
    famt, _ = _models(tiny_beitv2_cfg())
    plan = sample_plan(torch.rand(2, L), 0.375, 0.25)
    assert (plan.masked.shape[1], plan.thrown.shape[1]) == (24, 16)
    lengths = []
    famt.backbone.layers[0].register_forward_pre_hook(lambda m, args: lengths.append(args[0].shape[1]))
    famt.neck.patch_aggregation[0].register_forward_pre_hook(lambda m, args: lengths.append(args[0].shape[1]))
    image = torch.randn(2, 3, 32, 32, requires_grad=True)
    _total(famt.loss([image, torch.randn(2, 3, 32, 32)], [], mask_plan=plan)).backward()
    assert lengths == [1 + L - 16] * 2
    # gradient reaches the image only through the visible patches (masked ones are [MASK] tokens;
    # the tokenizer's picture is another tensor, encoded without gradient)
    per_patch = image.grad.abs().sum(1).reshape(2, 8, 4, 8, 4).sum((2, 4)).reshape(2, L)
    assert_gradient_by_role(per_patch, plan, masked_get_gradient=False)


def test_the_preprocessor_plan_and_second_normalisation_reach_the_model_in_loss_mode():
    famt, _ = _models(tiny_beit_cfg())
    pictures = [torch.randint(0, 255, (2, 3, size, size), dtype=torch.uint8) for size in (32, 64)]
    data = guided_batch(famt, pictures, (8, 8))
    assert torch.allclose(data['inputs'][0], pictures[0].float() / 127.5 - 1.0, atol=1e-6)
    assert torch.allclose(
        data['inputs'][1], (pictures[1].float() + 31.875) / 318.75, atol=1e-6
    )  # DALL-E's normalisation
    seen = []
    famt.backbone.layers[0].register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[1]))
    assert torch.isfinite(famt(**data, mode='loss')['loss'])
    assert seen == [1 + L - 16]  # guided: 24 masked, 16 thrown


def test_scoring_reads_the_attention_beit_computes_bias_included():
    famt, _ = _models(tiny_beitv2_cfg())
    famt.eval()
    with torch.no_grad():
        famt.backbone.layers[-1].attn.q_bias.normal_()  # make a dropped q / v bias visible
        famt.backbone.layers[-1].attn.v_bias.normal_()
    images = torch.randn(2, 3, 32, 32)
    real = []
    famt.backbone.layers[-1].attn.attn_drop.register_forward_hook(lambda m, a, out: real.append(out))
    attn, tokens = beit_last_block_attention(famt.backbone, images, famt.extract_feat)
    assert torch.allclose(attn, real[0], atol=1e-6)
    assert tokens.shape == (2, 1 + L, 32)
    generator = famt.data_preprocessor.mask_generator
    assert score_images(famt, images, generator).shape == (2, 8, 8)


def test_whole_image_call_is_plain_and_a_mask_argument_is_refused():
    famt, _ = _models(tiny_beit_cfg())
    famt.eval()
    inputs = torch.randn(1, 3, 32, 32)
    (tokens,) = famt.extract_feat(inputs)
    assert tokens.shape == (1, 1 + L, 32)
    with pytest.raises(ValueError, match='FAMTBEiTPretrainViT takes its masking as mask_plan'):
        famt.backbone(inputs, mask=torch.zeros(1, 8, 8, dtype=torch.bool))


def test_bad_settings_are_clear_errors():
    cfg = tiny_beitv2_cfg()
    cfg['backbone'].update(use_rel_pos_bias=True, use_shared_rel_pos_bias=False)
    with pytest.raises(ValueError, match='FAMTBEiTPretrainViT takes use_rel_pos_bias=False'):
        MODELS.build(cfg)
    famt = MODELS.build(tiny_beit_cfg())
    plan = sample_plan(torch.rand(1, L), 0.375, 0.25)
    with pytest.raises(ValueError, match='tokenizer gives 16 tokens per image but the plan covers 64'):
        famt.loss(_inputs(1, second=32), [], mask_plan=plan)  # DALL-E needs 64 px here
    with pytest.raises(ValueError, match='FAMTBEiT takes two pictures per image'):
        famt.loss(torch.randn(1, 3, 32, 32), [], mask_plan=plan)
    with pytest.raises(ValueError, match='takes two pictures per image .* got 3'):
        famt.data_preprocessor(
            dict(inputs=[torch.zeros(1, 3, 32, 32, dtype=torch.uint8)] * 3, data_samples=None), training=True
        )


@pytest.mark.parametrize(
    'generator',
    [
        dict(type='FAMTRandomMaskGenerator', mask_ratio=0.375, throw_ratio=0.25),
        dict(type='AMTMaskGenerator', mask_ratio=0.375, throw_ratio=0.25, warmup_mask_ratio=0.375),
    ],
    ids=lambda g: g['type'],
)
@pytest.mark.parametrize(
    'model_cfg,tokenizer_size', [(tiny_beitv2_cfg, 32), (tiny_cae_cfg, 64)], ids=['beitv2', 'cae']
)
def test_random_and_amt_masking_train_with_throwing(model_cfg, tokenizer_size, generator):
    """BEiT v2 and CAE (test_cae.py): the tokenizer's picture may have another size (DALL-E's)."""
    famt = MODELS.build(model_cfg(mask_generator=generator))
    famt.train()
    if generator['type'] == 'AMTMaskGenerator':
        famt.data_preprocessor.importance_cache.set(torch.rand(2, 8, 8) + 0.1)
    pictures = [torch.randint(0, 255, (2, 3, size, size), dtype=torch.uint8) for size in (32, tokenizer_size)]
    data = famt.data_preprocessor(dict(inputs=pictures, data_samples=uncropped_samples(2)), training=True)
    plan = data['mask_plan']
    assert (plan.masked.shape[1], plan.thrown.shape[1]) == (24, 16)
    assert torch.isfinite(_total(famt(**data, mode='loss')))
