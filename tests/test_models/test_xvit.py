"""X-ViT: the linear-order attention equals the explicit N x N formula; the backbones classify, take the
FAMT plan (thrown patches leave the sequence) and are scored through their explicit last-block attention."""

import itertools

import pytest
import torch
from mmpretrain.registry import MODELS

from famt_mm.core import sample_plan, signed_attention_rows
from famt_mm.models import FAMTMaskGenerator, FAMTXNormAttention, FAMTXViT
from famt_mm.models.masking.scoring import read_last_block, score_images
from famt_mm.testing import tiny_mae_cfg

SETTINGS = list(
    itertools.product(
        ('head_channels', 'channels', 'tokens'), ('per_head', 'shared', 'fixed'), ('mean', 'sum')
    )
)


def _reference(attn: FAMTXNormAttention, x: torch.Tensor):
    """The same formula written the quadratic way: the N x N matrix ``s * XNorm(Q) XNorm(K)^T`` (over N
    for 'mean'), applied to V, merged and projected. Returns (output, matrix)."""
    batch, length, channels = x.shape
    heads, dims = attn.num_heads, channels // attn.num_heads
    qkv = x @ attn.qkv.weight.T + attn.qkv.bias
    q, k, v = qkv[..., :channels], qkv[..., channels : 2 * channels], qkv[..., 2 * channels :]

    def unit(t, axis):
        return t / torch.sqrt((t * t).sum(dim=axis, keepdim=True)).clamp_min(attn.eps)

    if attn.norm_axis == 'channels':
        q, k = unit(q, -1), unit(k, -1)
    q, k, v = (t.reshape(batch, length, heads, dims).permute(0, 2, 1, 3) for t in (q, k, v))
    if attn.norm_axis == 'head_channels':
        q, k = unit(q, -1), unit(k, -1)
    elif attn.norm_axis == 'tokens':
        q, k = unit(q, -2), unit(k, -2)
    scale = attn.xnorm_scale.reshape(-1, 1, 1).expand(heads, 1, 1)
    matrix = torch.einsum('bhid,bhjd->bhij', q, k) * scale
    if attn.key_reduction == 'mean':
        matrix = matrix / length
    mixed = torch.einsum('bhij,bhjd->bhid', matrix, v)
    mixed = mixed.permute(0, 2, 1, 3).reshape(batch, length, channels)
    return mixed @ attn.proj.weight.T + attn.proj.bias, matrix


@pytest.mark.parametrize('norm_axis,scale_mode,key_reduction', SETTINGS)
def test_linear_order_equals_the_explicit_n_by_n_formula_in_fp64(norm_axis, scale_mode, key_reduction):
    torch.manual_seed(0)
    attn = FAMTXNormAttention(
        24, 3, norm_axis=norm_axis, scale_mode=scale_mode, scale_init=0.7, key_reduction=key_reduction
    ).double()
    if scale_mode != 'fixed':  # distinct per-head values, so a head mix-up would show
        attn.xnorm_scale.data = torch.linspace(0.5, 2.0, attn.xnorm_scale.numel(), dtype=torch.float64)
    x = torch.randn(2, 11, 24, dtype=torch.float64)
    expected, matrix = _reference(attn, x)
    # fp64 throughout: the two orders of the products agree to rounding, far below 1e-10
    assert torch.allclose(attn(x), expected, rtol=0, atol=1e-10)
    assert torch.allclose(attn.attention_matrix(x).double(), matrix, rtol=0, atol=1e-6)  # fp32 matrix


def test_signed_attention_has_no_softmax_rows():
    torch.manual_seed(0)
    attn = FAMTXNormAttention(16, 2, key_reduction='sum')
    matrix = attn.attention_matrix(torch.randn(1, 9, 16))
    # cosine similarities: within [-1, 1], some negative, rows not summing to 1
    assert matrix.abs().max() <= 1 + 1e-6 and (matrix < 0).any()
    assert not torch.allclose(matrix.sum(-1), torch.ones(1, 2, 9))


def test_gradients_reach_the_scale_and_the_projections():
    torch.manual_seed(0)
    attn = FAMTXNormAttention(16, 2)
    x = torch.randn(2, 7, 16, requires_grad=True)
    attn(x).square().sum().backward()
    for name, param in attn.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name
    assert x.grad.abs().sum() > 0
    fixed = FAMTXNormAttention(16, 2, scale_mode='fixed', scale_init=3.0)
    assert 'xnorm_scale' not in dict(fixed.named_parameters())
    assert 'xnorm_scale' not in fixed.state_dict()  # a setting, not a weight
    assert torch.equal(fixed.xnorm_scale, torch.tensor([3.0]))


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(norm_axis='rows'), "norm_axis must be one of 'head_channels', 'channels', 'tokens'"),
        (dict(scale_mode='learned'), 'scale_mode must be one of'),
        (dict(key_reduction='max'), 'key_reduction must be one of'),
        (dict(scale_init=0), 'scale_init must be a number > 0'),
        (dict(attn_drop=0.1), 'attn_drop .* must be 0'),
        (dict(qk_scale=0.5), 'qk_scale must be None'),
    ],
)
def test_bad_attention_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FAMTXNormAttention(16, 2, **kwargs)


def _tiny_xvit(**kwargs):
    arch = dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64)
    return MODELS.build(dict(type='FAMTXViT', arch=arch, img_size=16, patch_size=4, **kwargs))


def test_xvit_is_a_vit_with_xnorm_blocks_and_loads_a_vit_checkpoint():
    torch.manual_seed(0)
    xvit = _tiny_xvit(out_type='avg_featmap', scale_mode='shared')
    vit = MODELS.build(
        dict(
            type='VisionTransformer',
            arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
            img_size=16,
            patch_size=4,
            out_type='avg_featmap',
        )
    )
    assert all(type(layer.attn) is FAMTXNormAttention for layer in xvit.layers)
    missing, unexpected = xvit.load_state_dict(vit.state_dict(), strict=False)
    assert sorted(missing) == ['layers.0.attn.xnorm_scale', 'layers.1.attn.xnorm_scale'] and not unexpected
    # the replaced attention keeps the block's drop path and layer scale modules
    deep = _tiny_xvit(drop_path_rate=0.2, layer_cfgs=dict(layer_scale_init_value=0.1))
    assert deep.layers[1].attn.out_drop.drop_prob == pytest.approx(0.2)
    assert deep.layers[1].attn.gamma1.weight.shape == (32,)
    out = xvit(torch.randn(2, 3, 16, 16))
    assert out[0].shape == (2, 32) and torch.isfinite(out[0]).all()


def test_xvit_refuses_attention_dropout_and_bad_scoring_setting():
    with pytest.raises(ValueError, match='attn_drop_rate must be 0'):
        _tiny_xvit(layer_cfgs=dict(attn_drop_rate=0.1))
    with pytest.raises(ValueError, match="score_attention must be one of 'clip', 'shift', 'abs'"):
        _tiny_xvit(score_attention='softmax')


def test_frozen_stages_also_freeze_the_xnorm_attention():
    xvit = _tiny_xvit(frozen_stages=1)
    assert not any(p.requires_grad for p in xvit.layers[0].parameters())
    assert all(p.requires_grad for p in xvit.layers[1].parameters())


def test_image_classifier_with_an_xvit_backbone_trains_a_step():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='FAMTXViT',
                img_size=16,
                patch_size=4,
                arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
            ),
            head=dict(
                type='LinearClsHead', num_classes=10, in_channels=32, loss=dict(type='CrossEntropyLoss')
            ),
        )
    )
    from mmpretrain.structures import DataSample

    samples = [DataSample().set_gt_label(i) for i in range(4)]
    loss = model.loss(torch.randn(4, 3, 16, 16), samples)['loss']
    loss.backward()
    assert torch.isfinite(loss)
    assert all(layer.attn.xnorm_scale.grad is not None for layer in model.backbone.layers)


def _xvit_mae(**backbone):
    cfg = tiny_mae_cfg(img_size=16, patch_size=4)
    cfg['backbone'].update(type='FAMTMAEXViT', **backbone)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_plan_forward_encodes_cls_and_the_visible_patches_only():
    model = _xvit_mae()
    vit = model.backbone
    plan = sample_plan(torch.rand(2, 16), 0.45, 0.40)  # 7 masked, 6 thrown, 3 visible
    lengths = []
    vit.layers[0].register_forward_pre_hook(lambda m, args: lengths.append(args[0].shape[1]))
    images = torch.randn(2, 3, 16, 16)
    latent = vit(images, mask_plan=plan)
    assert lengths == [1 + 3] and latent.shape == (2, 4, 32)
    # the encoder's output is the blocks run on [CLS + the visible patches] alone
    patches = vit.patch_embed(images)[0] + vit.pos_embed[:, 1:]
    visible = torch.gather(patches, 1, plan.visible[..., None].expand(-1, -1, 32))
    x = torch.cat(((vit.cls_token + vit.pos_embed[:, :1]).expand(2, -1, -1), visible), 1)
    for layer in vit.layers:
        x = layer(x)
    assert torch.allclose(latent, vit.norm1(x), atol=1e-6)
    # what lies under the thrown and masked patches changes nothing
    keep = plan.indicator('visible').reshape(2, 1, 4, 1, 4, 1).expand(2, 3, 4, 4, 4, 4).reshape(2, 3, 16, 16)
    other = images * keep + torch.randn_like(images) * (1 - keep)
    assert torch.allclose(vit(other, mask_plan=plan), latent, atol=1e-6)


def test_famt_mae_xvit_loss_reaches_every_weight_but_the_thrown_pixels():
    model = _xvit_mae()
    plan = sample_plan(torch.rand(2, 16), 0.45, 0.40)
    inputs = torch.randn(2, 3, 16, 16, requires_grad=True)
    loss = model.loss(inputs, [], mask_plan=plan)['loss']
    loss.backward()
    assert torch.isfinite(loss)
    for layer in model.backbone.layers:
        assert layer.attn.xnorm_scale.grad.abs().sum() > 0
    grad = inputs.grad.abs().sum(1).reshape(2, 4, 4, 4, 4).permute(0, 1, 3, 2, 4)
    per_patch = grad.reshape(2, 16, 16).sum(-1)
    assert torch.all(per_patch.gather(1, plan.thrown) == 0)
    assert torch.all(per_patch.gather(1, plan.visible) > 0)


@pytest.mark.parametrize('mode', ['clip', 'shift', 'abs'])
def test_scoring_reads_the_explicit_last_block_attention_as_rows(mode):
    model = _xvit_mae(score_attention=mode)
    model.eval()
    images = torch.randn(2, 3, 16, 16)
    captured = {}
    model.backbone.layers[-1].attn.register_forward_hook(lambda m, args, out: captured.update(x=args[0]))
    block = read_last_block(model, images)
    assert block.attn.shape == (2, 4, 17, 17) and block.cls_token and block.grid == (4, 4)
    assert block.backbone == 'FAMTMAEXViT'
    signed = model.backbone.layers[-1].attn.attention_matrix(captured['x'])
    assert torch.equal(block.attn, signed_attention_rows(signed, mode))
    assert (block.attn >= 0).all() and torch.allclose(block.attn.sum(-1), torch.ones(2, 4, 17), atol=1e-5)
    for generator in (FAMTMaskGenerator(), MODELS.build(dict(type='AMTMaskGenerator'))):
        maps = score_images(model, images, generator)
        assert maps.shape == (2, 4, 4) and torch.isfinite(maps).all()


def test_only_the_last_block_forms_its_matrix_when_scoring():
    model = _xvit_mae()
    model.eval()
    calls = []

    def counting(index, original):
        return lambda x: calls.append(index) or original(x)

    for i, layer in enumerate(model.backbone.layers):
        layer.attn.attention_matrix = counting(i, layer.attn.attention_matrix)
    read_last_block(model, torch.randn(1, 3, 16, 16))
    assert calls == [len(model.backbone.layers) - 1]


def test_xvit_is_an_mmpretrain_backbone():
    assert issubclass(FAMTXViT, MODELS.get('VisionTransformer'))
