"""FAMT-MILAN against stock mmpretrain MILAN; the plan, not the CLIP teacher, decides the masking."""

import pytest
import torch
from mmpretrain.registry import MODELS

from famt_mm.core import MaskPlan, gather_tokens, sample_plan
from famt_mm.testing.equivalence import (
    assert_gradient_by_role,
    assert_same_loss_and_grads,
    build_famt_and_stock,
    stock_cfg,
)
from famt_mm.testing.milan import save_tiny_clip, tiny_milan_cfg


@pytest.fixture(scope='module')
def clip_path(tmp_path_factory):
    return save_tiny_clip(str(tmp_path_factory.mktemp('clip') / 'clip.pth'))


def _models(clip_path):
    cfg = tiny_milan_cfg(clip_path)
    stock = stock_cfg(
        cfg, 'MILAN', backbone=dict(type='MILANViT', mask_ratio=0.75), neck=dict(type='MILANPretrainDecoder')
    )
    return build_famt_and_stock(cfg, stock)


def _replay(stock, plan: MaskPlan, seen: list) -> None:
    """Make stock MILANViT's attention masking return the plan's sets, recording the importance."""

    def attention_masking(x, mask_ratio, importance):
        seen.append(importance)
        order = torch.cat((plan.visible, plan.masked), dim=1)
        return gather_tokens(x, plan.visible), order.argsort(dim=1), plan.visible, plan.masked

    stock.backbone.attention_masking = attention_masking


def _per_patch(grad: torch.Tensor) -> torch.Tensor:
    """(B, 16) summed absolute gradient per 4-px patch of 16-px images."""
    grad = grad.abs().sum(1).reshape(-1, 4, 4, 4, 4).permute(0, 1, 3, 2, 4)
    return grad.reshape(grad.shape[0], 16, 16).sum(-1)


def test_throw_zero_equals_stock_milan_for_the_same_index_sets(clip_path):
    famt, stock = _models(clip_path)
    inputs = torch.randn(3, 3, 16, 16)
    plan = sample_plan(torch.rand(3, 16), 0.75, 0.0)
    seen = []
    _replay(stock, plan, seen)
    stock_loss = stock.loss(inputs, [])['loss']
    famt_loss = famt.loss(inputs, [], mask_plan=plan)['loss']
    assert [s.shape for s in seen] == [(3, 16)]  # stock drew from the teacher's CLS attention
    assert_same_loss_and_grads(famt, famt_loss, stock, stock_loss)
    assert famt.neck.decoder_blocks[0].attn.q.weight.grad.abs().sum() > 0  # the prompts are trained


def test_thrown_patches_reach_neither_encoder_decoder_nor_loss(clip_path):
    famt, _ = _models(clip_path)
    plan = sample_plan(torch.rand(2, 16), 0.45, 0.40)
    n_visible, n_masked = plan.visible.shape[1], plan.masked.shape[1]
    lengths = {}
    famt.backbone.layers[0].register_forward_pre_hook(
        lambda m, args: lengths.__setitem__('encoder', args[0].shape[1])
    )
    block = famt.neck.decoder_blocks[0]
    block.register_forward_pre_hook(lambda m, args: lengths.__setitem__('queries', args[0].shape[1]))
    block.attn.kv.register_forward_pre_hook(lambda m, args: lengths.__setitem__('keys', args[0].shape[1]))
    pred = []
    famt.neck.register_forward_hook(lambda m, args, out: pred.append(out))
    inputs = torch.randn(2, 3, 16, 16, requires_grad=True)
    famt.loss(inputs, [], mask_plan=plan)['loss'].backward()
    assert (n_visible, n_masked, plan.thrown.shape[1]) == (3, 7, 6)
    assert lengths == dict(encoder=1 + n_visible, queries=n_masked, keys=1 + n_visible + n_masked)
    assert pred[0].shape == (2, 1 + n_visible + n_masked, 16)
    # masked pixels reach the loss only through the teacher, which runs without gradient
    assert_gradient_by_role(_per_patch(inputs.grad), plan, masked_get_gradient=False)


def test_the_teacher_gives_targets_only_and_its_thrown_tokens_do_not_count(clip_path):
    famt, _ = _models(clip_path)
    plan = sample_plan(torch.rand(2, 16), 0.45, 0.40)
    inputs = torch.randn(2, 3, 16, 16)
    teacher = famt.target_generator
    features, attention = teacher(inputs)
    teacher.forward = lambda x: (features, attention)
    loss = famt.loss(inputs, [], mask_plan=plan)['loss']
    changed = features.clone()
    thrown = plan.thrown + 1  # CLS first
    changed.scatter_(
        1,
        thrown[..., None].expand(-1, -1, changed.shape[-1]),
        torch.randn(2, thrown.shape[1], changed.shape[-1]),
    )
    teacher.forward = lambda x: (changed, torch.rand_like(attention))
    assert torch.allclose(famt.loss(inputs, [], mask_plan=plan)['loss'], loss)
    kept = plan.visible[:, :1] + 1  # a visible token does count
    changed.scatter_(
        1, kept[..., None].expand(-1, -1, changed.shape[-1]), torch.randn(2, 1, changed.shape[-1])
    )
    assert not torch.allclose(famt.loss(inputs, [], mask_plan=plan)['loss'], loss)


def test_whole_image_call_is_the_plain_vit_and_importance_is_refused(clip_path):
    famt, stock = _models(clip_path)
    famt.eval()
    stock.eval()
    inputs = torch.randn(2, 3, 16, 16)
    out = famt.extract_feat(inputs)  # MILAN's extract_feat: backbone(x, importance=None)
    assert out[0].shape == (2, 17, 32)
    assert torch.equal(out[0], stock.extract_feat(inputs)[0])
    with pytest.raises(ValueError, match='importance must be None for the whole-image forward'):
        famt.backbone(inputs, importance=torch.rand(2, 16))


def test_preprocessor_plan_drives_the_loss(clip_path):
    famt, _ = _models(clip_path)
    famt.train()
    seen = []
    famt.backbone.layers[0].register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[1]))
    data = famt.data_preprocessor(
        dict(inputs=torch.randint(0, 255, (2, 3, 16, 16), dtype=torch.uint8), data_samples=None),
        training=True,
    )
    losses = famt(**data, mode='loss')
    # warm-up of the FAMT generator: 0.75 random masking, no throwing -> 4 visible of 16
    assert seen == [1 + 4] and torch.isfinite(losses['loss'])


@pytest.mark.parametrize(
    'change, error, match',
    [
        (
            dict(backbone=dict(type='MILANViT')),
            TypeError,
            r'needs a backbone that takes a mask plan \(FAMTMILANViT\)',
        ),
        (
            dict(neck=dict(type='MILANPretrainDecoder')),
            TypeError,
            "neck=dict\\(type='FAMTMILANPretrainDecoder'",
        ),
        (dict(target_generator=None), TypeError, "target_generator=dict\\(type='CLIPGenerator'"),
    ],
)
def test_bad_parts_are_refused_when_built(clip_path, change, error, match):
    cfg = tiny_milan_cfg(clip_path)
    for key, value in change.items():
        cfg[key] = value if value is None else dict(cfg[key], **value)
    with pytest.raises(error, match=match):
        MODELS.build(cfg)


def test_a_teacher_of_another_grid_or_width_is_refused(tmp_path):
    plan = sample_plan(torch.rand(1, 16), 0.45, 0.40)
    inputs = torch.randn(1, 3, 16, 16)
    other_grid = MODELS.build(tiny_milan_cfg(save_tiny_clip(str(tmp_path / 'a.pth'), patch_size=8)))
    with pytest.raises(ValueError, match='gives 4 patch tokens per image but the plan covers 16'):
        other_grid.loss(inputs, [], mask_plan=plan)
    other_width = MODELS.build(tiny_milan_cfg(save_tiny_clip(str(tmp_path / 'b.pth'), embed_dim=8)))
    with pytest.raises(ValueError, match='predicts 16 features per token but the teacher gives 8'):
        other_width.loss(inputs, [], mask_plan=plan)
