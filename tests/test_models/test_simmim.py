"""FAMT-SimMIM: ViT with throwing against a direct SimMIM computation, units, and Swin masking."""

import numpy as np
import pytest
import torch
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from famt_mm.core import expand_unit_ids, famt_weights, plan_counts, sample_plan
from famt_mm.models import FAMTSimMIMSwin, FAMTSimMIMViT, last_block_attention, patchify_chw, score_images
from famt_mm.testing import swin_simmim_cfg, vit_simmim_cfg


def _vit_model():
    torch.manual_seed(0)
    model = MODELS.build(vit_simmim_cfg())
    model.init_weights()
    return model


def _direct_simmim_loss(model, inputs, mask):
    """Ordinary SimMIM with a ViT: [MASK] at masked patches, full sequence, conv decoder on the
    feature map, SimMIMHead loss on masked pixels."""
    vit = model.backbone
    x, _ = vit.patch_embed(inputs)
    w = mask.flatten(1)[..., None].float()
    x = x * (1 - w) + vit.mask_token * w
    x = torch.cat((vit.cls_token.expand(len(x), -1, -1), x), dim=1) + vit.pos_embed
    for layer in vit.layers:
        x = layer(x)
    x = vit.ln1(x)[:, 1:]
    side = int(x.shape[1] ** 0.5)
    feature_map = x.transpose(1, 2).reshape(len(x), -1, side, side)
    return model.head.loss(model.neck(feature_map), inputs, mask)


def test_vit_simmim_with_throw_zero_matches_direct_simmim():
    model = _vit_model()
    inputs = torch.randn(3, 3, 16, 16)
    plan = sample_plan(torch.rand(3, 16), 0.5, 0.0)
    mask = plan.to_labels().eq(1).float().reshape(3, 4, 4)
    expected = _direct_simmim_loss(model, inputs, mask)
    assert torch.allclose(model.loss(inputs, [], mask_plan=plan)['loss'], expected, rtol=1e-5)


def test_vit_simmim_throwing_shortens_the_sequence_and_ignores_thrown_pixels():
    model = _vit_model()
    plan = sample_plan(torch.rand(2, 16), 0.5, 0.25)
    lengths = []
    model.backbone.layers[0].register_forward_pre_hook(lambda m, a: lengths.append(a[0].shape[1]))
    inputs = torch.randn(2, 3, 16, 16, requires_grad=True)
    loss = model.loss(inputs, [], mask_plan=plan)['loss']
    assert lengths == [1 + 16 - 4]  # CLS + L - thrown
    loss.backward()
    per_patch = patchify_chw(inputs.grad.abs(), 4).sum(-1)
    assert torch.all(per_patch.gather(1, plan.thrown) == 0)
    assert torch.all(per_patch.gather(1, plan.masked) > 0)  # the L1 target
    # the [MASK] token replaces masked patches in the encoder: their pixels reach the loss only as
    # targets, so changing visible pixels changes the loss and thrown pixels do not
    assert torch.all(per_patch.gather(1, plan.visible) > 0)


def test_expand_unit_ids_covers_unit_blocks():
    # a 2x3 grid of 2x2-patch units -> a 4x6 patch grid
    ids = torch.tensor([[0, 5]])
    patches = expand_unit_ids(ids, unit_grid_width=3, unit=2)
    assert patches.tolist() == [[0, 1, 6, 7, 16, 17, 22, 23]]


def test_unit_sampling_counts_and_statistics():
    # SimMIM's 7x7 units of 32 px at 224 px, each count rounded up as the official SimMIM code
    counts = plan_counts(49, 0.44, 0.26, rounding='ceil_each')
    assert counts == (22, 13, 14)
    generator = torch.Generator().manual_seed(0)
    plan = sample_plan(torch.ones(3000, 49), 0.44, 0.26, generator=generator, rounding='ceil_each')
    rate = plan.to_labels().eq(1).float().mean(0)
    assert torch.allclose(rate, torch.full_like(rate, 22 / 49), atol=0.04)
    patches = plan.expand_units(7, 2)
    assert (patches.masked.shape[1], patches.thrown.shape[1], patches.visible.shape[1]) == (88, 52, 56)


def test_swin_guided_masking_runs_the_stock_path_and_refuses_throwing():
    torch.manual_seed(0)
    model = MODELS.build(swin_simmim_cfg())
    model.init_weights()
    preprocessor = model.data_preprocessor
    preprocessor.importance_cache.set(torch.rand(2, 4, 4))  # last-stage grid of a 32 px image
    samples = [
        DataSample(metainfo=dict(sample_idx=i, crop_box=np.array([0, 0, 1, 1.0]), flip=False))
        for i in range(2)
    ]
    data = preprocessor(
        dict(inputs=torch.randint(0, 255, (2, 3, 32, 32), dtype=torch.uint8), data_samples=samples),
        training=True,
    )
    plan = data['mask_plan']
    assert plan.masked.shape[1] == 2 * 16 and plan.thrown.shape[1] == 0  # 2 of 4 units, 4x4 patches
    loss = model(**data, mode='loss')['loss']
    assert torch.isfinite(loss)


def test_swin_scoring_reads_the_last_window_attention():
    torch.manual_seed(0)
    model = MODELS.build(swin_simmim_cfg())
    model.init_weights()
    model.eval()
    generator = model.data_preprocessor.mask_generator
    images = torch.randn(2, 3, 32, 32)
    maps = score_images(model, images, generator)
    assert maps.shape == (2, 4, 4)  # 32 px / 8 (patch 4, one merge) = 4x4 tokens, one window
    assert torch.isfinite(maps).all() and (maps > 0).all()
    # FAMT without CLS: frequency factor x attention received, from the captured softmax
    from famt_mm.core import frequency_factor

    captured = {}
    last = model.backbone.stages[-1].blocks[-1]
    last.attn.w_msa.softmax.register_forward_hook(lambda m, a, out: captured.update(attn=out))
    last.register_forward_hook(lambda m, a, out: captured.update(tokens=out))
    model.extract_feat(images)
    expected = frequency_factor(captured['tokens']) * captured['attn'].mean(2).mean(1)
    assert torch.allclose(maps.flatten(1), expected, atol=1e-6)


def test_vit_simmim_scoring_uses_the_cls_formulas():
    model = _vit_model()
    model.eval()
    images = torch.randn(2, 3, 16, 16)
    maps = score_images(model, images, model.data_preprocessor.mask_generator)
    assert maps.shape == (2, 4, 4) and torch.isfinite(maps).all()
    attn, tokens = last_block_attention(model.backbone, images, model.extract_feat)
    assert attn.shape == (2, 4, 17, 17)  # the CLS token is there
    assert torch.allclose(maps.flatten(1), famt_weights(attn, tokens, cls_token=True), atol=1e-6)
    assert not torch.allclose(
        maps.flatten(1), famt_weights(attn[:, :, 1:, 1:], tokens[:, 1:], cls_token=False), atol=1e-3
    )


def test_vit_backbone_is_a_plain_vision_transformer_for_transfer():
    """The pretrained FAMT-SimMIM ViT loads into mmpretrain's VisionTransformer of the same arch:
    every key but the [MASK] token, and the same features."""
    vit = _vit_model().backbone
    assert isinstance(vit, FAMTSimMIMViT)
    plain = VisionTransformer(
        arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
        img_size=16,
        patch_size=4,
        out_type='raw',
    )
    result = plain.load_state_dict(vit.state_dict(), strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == ['mask_token']
    vit.eval()
    plain.eval()
    images = torch.randn(2, 3, 16, 16)
    assert torch.allclose(plain(images)[0], vit(images)[0])


def test_swin_refuses_a_throwing_generator_at_build_time():
    cfg = swin_simmim_cfg(dict(type='FAMTMaskGenerator', mask_ratio=0.5, throw_ratio=0.25))
    with pytest.raises(
        ValueError,
        match=r'FAMTSimMIMSwin cannot throw \(window attention needs every '
        r"patch position\): set the mask generator's throw_ratio=0, "
        'got 0.25',
    ):
        MODELS.build(cfg)


def test_swin_plan_masks_as_stock_simmim_with_the_dense_mask():
    torch.manual_seed(0)
    model = MODELS.build(swin_simmim_cfg())
    model.init_weights()
    swin = model.backbone
    swin.eval()  # no stochastic depth: the two calls must agree exactly
    assert isinstance(swin, FAMTSimMIMSwin)
    inputs = torch.randn(2, 3, 32, 32)
    plan = sample_plan(torch.rand(2, 64), 0.5, 0.0)
    mask = swin.patch_mask(inputs, plan)
    assert mask.shape == (2, 8, 8) and mask.flatten(1).sum(1).tolist() == [32.0, 32.0]
    assert torch.equal(mask.flatten(1).nonzero()[:, 1].reshape(2, -1), plan.masked.sort(1).values)
    planned = swin(inputs, plan)
    stock = super(FAMTSimMIMSwin, swin).forward(inputs, mask)
    assert torch.equal(planned[0], stock[0])


def test_a_backbone_without_a_plan_contract_is_refused():
    cfg = swin_simmim_cfg()
    cfg['backbone']['type'] = 'SimMIMSwinTransformer'
    with pytest.raises(
        TypeError,
        match=r'FAMTSimMIM needs a backbone that takes a mask plan '
        r'\(FAMTSimMIMViT or FAMTSimMIMSwin\), got SimMIMSwinTransformer',
    ):
        MODELS.build(cfg)


@pytest.mark.parametrize('which', ['vit', 'swin'])
def test_plain_forward_and_mask_none_are_the_whole_image_backbone(which):
    torch.manual_seed(0)
    model = MODELS.build(vit_simmim_cfg() if which == 'vit' else swin_simmim_cfg()).eval()
    size = 16 if which == 'vit' else 32
    inputs = torch.randn(2, 3, size, size)
    plain, via_extract = model.backbone(inputs), model.extract_feat(inputs)
    assert all(torch.equal(a, b) for a, b in zip(plain, via_extract))
    with pytest.raises(ValueError, match='takes its masking as mask_plan=MaskPlan'):
        model.backbone(inputs, mask=torch.zeros(2, size // 4, size // 4))
