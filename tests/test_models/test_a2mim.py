"""A²MIM on a ResNet: mean-colour filling at the input, the mask token at a middle stage, the loss on
masked pixels plus the focal frequency loss, the pipeline's mask (A2MIM) and FAMT's plan (FAMTA2MIM)
at 32-px units, and the settings a CNN cannot serve refused."""

import pytest
import torch
from mmpretrain.models import ResNet
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

from famt_mm.core import frequency_factor, sample_plan
from famt_mm.models import FAMTA2MIMHead, focal_frequency_loss, score_images
from famt_mm.testing.a2mim import TINY_RESNET, build_a2mim, tiny_a2mim_cfg

GRID = 3  # 3 x 3 units of 32 px at 96 px


def _backbone(**change):
    backbone = MODELS.build(dict(TINY_RESNET, **change))
    backbone.init_weights()
    backbone.eval()  # BN on running statistics: per-image results do not mix
    return backbone


def _mask(units):
    """(2, 3, 3) mask with the given flat unit ids masked in both images."""
    mask = torch.zeros(2, GRID * GRID)
    mask[:, units] = 1.0
    return mask.view(2, GRID, GRID)


def _capture(module, store, key, output=False):
    if output:
        return module.register_forward_hook(lambda m, a, out: store.__setitem__(key, out))
    return module.register_forward_pre_hook(lambda m, a: store.__setitem__(key, a[0]))


def test_masked_units_are_filled_with_each_image_mean_colour_at_the_input():
    backbone = _backbone()
    images = torch.randn(2, 3, 96, 96) + torch.tensor([3.0, -1.0])[:, None, None, None]
    seen = {}
    _capture(backbone.conv1, seen, 'x')
    backbone(images, _mask([0, 4, 8]))
    units = seen['x'].reshape(2, 3, GRID, 32, GRID, 32).permute(0, 2, 4, 1, 3, 5).reshape(2, 9, 3, -1)
    original = images.reshape(2, 3, GRID, 32, GRID, 32).permute(0, 2, 4, 1, 3, 5).reshape(2, 9, 3, -1)
    mean = images.mean(dim=(2, 3))  # (2, 3): each image's own colour
    for unit in range(9):
        if unit in (0, 4, 8):
            assert torch.allclose(units[:, unit], mean[..., None].expand(-1, -1, 1024), atol=1e-6)
        else:
            assert torch.equal(units[:, unit], original[:, unit])


def test_the_mask_token_joins_the_input_of_the_masked_stage_at_its_resolution():
    backbone = _backbone()
    with torch.no_grad():
        backbone.mask_token.fill_(5.0)
        backbone.mask_gamma.fill_(0.5)
    seen = {}
    _capture(backbone.layer3, seen, 'stage3', output=True)
    _capture(backbone.layer4, seen, 'stage4_in')
    backbone(torch.randn(2, 3, 96, 96), _mask([1, 3]))
    before, after = seen['stage3'], seen['stage4_in']  # (2, 32, 6, 6): stride 16, 2 x 2 per unit
    masked = torch.zeros(6, 6, dtype=torch.bool)
    masked[0:2, 2:4] = masked[2:4, 0:2] = True  # units 1 and 3 of the 3 x 3 grid
    assert torch.allclose(after[..., masked], 0.5 * before[..., masked] + 5.0)
    assert torch.equal(after[..., ~masked], before[..., ~masked])


def test_mask_layer_picks_the_stage_and_its_channels():
    assert _backbone(mask_layer=1).mask_token.shape == (1, 8, 1, 1)  # stage 2 input: stride 4
    seen = {}
    backbone = _backbone(mask_layer=1, mask_init=0.0)
    assert backbone.mask_gamma is None
    _capture(backbone.layer1, seen, 'stage1', output=True)
    _capture(backbone.layer2, seen, 'stage2_in')
    backbone(torch.randn(2, 3, 96, 96), _mask([0]))
    added = seen['stage2_in'] - seen['stage1']  # (2, 8, 24, 24): unit 0 is the top-left 8 x 8
    assert torch.allclose(added[..., :8, :8], backbone.mask_token.expand(2, -1, 8, 8), atol=1e-5)
    assert added[..., 8:, :].abs().max() == 0 and added[..., :8, 8:].abs().max() == 0
    with pytest.raises(ValueError, match=r'mask_layer must be a stage index in \[0, 4\)'):
        _backbone(mask_layer=4)


def test_the_whole_image_call_is_the_plain_resnet_and_an_empty_mask_changes_nothing():
    backbone = _backbone(mask_init=0.0)
    plain = ResNet(depth=18, stem_channels=8, base_channels=8, out_indices=(3,))
    plain.eval()
    state = {k: v for k, v in backbone.state_dict().items() if not k.startswith('mask_')}
    plain.load_state_dict(state)
    images = torch.randn(2, 3, 96, 96)
    assert torch.equal(backbone(images)[0], plain(images)[0])
    assert torch.allclose(backbone(images, torch.zeros(2, GRID, GRID))[0], plain(images)[0])


def test_the_spatial_loss_counts_masked_pixels_only():
    head = FAMTA2MIMHead(fft_weight=0.0)
    target = torch.randn(2, 3, 96, 96)
    mask = _mask([2, 6])
    pixels = torch.nn.functional.interpolate(mask[:, None], size=(96, 96))
    pred = target + 1.0 * pixels + 7.0 * (1 - pixels)  # off by 1 where masked, by 7 elsewhere
    assert torch.isclose(head.loss(pred, target, mask), torch.tensor(1.0))
    pred.requires_grad_(True)
    head.loss(pred, target, mask).backward()
    assert pred.grad[(pixels == 0).expand_as(pred)].abs().max() == 0
    assert (pred.grad[(pixels == 1).expand_as(pred)] != 0).all()


def test_the_frequency_term_sees_unmasked_pixels_only_through_fft_unmask_weight():
    target = torch.randn(2, 3, 64, 64)
    mask = torch.zeros(2, 2, 2)
    mask[:, 0, 0] = 1
    pred = (target + torch.randn_like(target)).requires_grad_(True)
    FAMTA2MIMHead(fft_weight=1.0, fft_unmask_weight=0.0).frequency(
        pred, target, torch.nn.functional.interpolate(mask[:, None], size=(64, 64))
    ).backward()
    assert pred.grad[..., 32:, :].abs().max() == 0 and pred.grad[..., :32, 32:].abs().max() == 0
    assert pred.grad[..., :32, :32].abs().max() > 0


def test_focal_frequency_loss_is_finite_positive_and_zero_for_identical_inputs():
    pred, target = torch.randn(2, 3, 64, 64, requires_grad=True), torch.randn(2, 3, 64, 64)
    loss = focal_frequency_loss(pred, target)
    loss.backward()
    assert torch.isfinite(loss) and loss > 0 and torch.isfinite(pred.grad).all()
    same = target.clone().requires_grad_(True)
    zero = focal_frequency_loss(same, target)
    zero.backward()
    assert zero == 0 and torch.isfinite(same.grad).all()
    # the head's completion of the unmasked pixels rounds: zero up to float error
    assert FAMTA2MIMHead().loss(target, target, _mask([0, 1])[:, :2, :2]).abs() < 1e-12


@pytest.mark.parametrize(
    'change, message',
    [
        (dict(spatial_loss='l2'), 'spatial_loss must be one of'),
        (dict(fft_weight=-1.0), 'fft_weight must be >= 0'),
        (dict(fft_unmask_weight=2.0), r'fft_unmask_weight must be in \[0, 1\]'),
    ],
)
def test_bad_head_settings_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        FAMTA2MIMHead(**change)


def _famt():
    model = MODELS.build(tiny_a2mim_cfg())
    model.init_weights()
    return model


def test_the_famt_plan_reaches_the_backbone_at_32_px_units():
    model = _famt()
    images = torch.randint(0, 255, (2, 3, 96, 96), dtype=torch.uint8)
    data = model.data_preprocessor(
        dict(inputs=images, data_samples=[DataSample(), DataSample()]), training=True
    )
    plan = data['mask_plan']
    assert plan.num_patches == GRID * GRID and plan.thrown.shape[1] == 0
    seen = {}
    model.backbone.register_forward_pre_hook(lambda m, args: seen.__setitem__('mask', args[1]))
    loss = model(**data, mode='loss')['loss']
    expected = torch.zeros(2, 9).scatter_(1, plan.masked, 1.0).view(2, GRID, GRID)
    assert torch.equal(seen['mask'], expected)
    assert expected.sum() == 2 * 5  # int(9 * 0.6) units per image
    loss.backward()
    assert model.backbone.mask_token.grad.abs().sum() > 0


def test_plan_and_pipeline_mask_give_the_same_loss_for_the_same_units():
    famt = _famt()
    stock = build_a2mim(tiny_a2mim_cfg(famt=False))
    stock.load_state_dict(famt.state_dict())
    famt.eval(), stock.eval()
    inputs = torch.randn(2, 3, 96, 96)
    plan = sample_plan(torch.rand(2, 9), 0.6, 0.0)
    samples = [DataSample().set_mask(m) for m in famt.plan_mask(inputs, plan)]
    assert torch.equal(famt.loss(inputs, [], mask_plan=plan)['loss'], stock.loss(inputs, samples)['loss'])
    with pytest.raises(ValueError, match='put SimMIMMaskGenerator in the pipeline'):
        stock.loss(inputs, [DataSample(), DataSample()])


def test_the_pipeline_mask_at_32_px_units_fits_the_model():
    generator = TRANSFORMS.build(
        dict(
            type='SimMIMMaskGenerator', input_size=96, mask_patch_size=32, model_patch_size=32, mask_ratio=0.6
        )
    )
    masks = [torch.as_tensor(generator(dict())['mask']) for _ in range(2)]
    assert masks[0].shape == (GRID, GRID) and masks[0].sum() == 6  # SimMIM rounds up
    stock = build_a2mim(tiny_a2mim_cfg(famt=False))
    loss = stock.loss(torch.randn(2, 3, 96, 96), [DataSample().set_mask(m) for m in masks])['loss']
    assert torch.isfinite(loss)


def test_cnn_scoring_is_the_frequency_factor_of_the_last_stage():
    model = _famt()
    model.eval()
    images = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        weights = score_images(model, images, model.data_preprocessor.mask_generator)
        tokens = model.extract_feat(images)[-1].flatten(2).transpose(1, 2)  # (2, 9, 64)
    assert weights.shape == (2, GRID, GRID)
    assert torch.allclose(weights.flatten(1), frequency_factor(tokens), atol=1e-6)


def test_random_masking_needs_no_frequency_source_and_other_backbones_are_refused():
    cfg = tiny_a2mim_cfg(mask_generator=dict(type='FAMTRandomMaskGenerator', mask_ratio=0.6))
    assert type(MODELS.build(cfg)).__name__ == 'FAMTA2MIM'
    cfg = tiny_a2mim_cfg(famt=False)
    cfg['backbone'] = dict(type='ResNet', depth=18)
    with pytest.raises(TypeError, match="needs backbone=dict\\(type='FAMTA2MIMResNet'"):
        build_a2mim(cfg)
