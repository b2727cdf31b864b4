"""Trainable matrix activation: ReLU exactly at the ReLU setting, the piecewise formula, gradients to
levels and knots, the tri-diagonal form, named errors, and building through mmcv's act_cfg."""

import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from famt_mm.models import FAMTMatrixActivation


def test_the_relu_setting_is_relu_in_values_and_gradients():
    act = FAMTMatrixActivation()  # one knot at 0, levels (0, 1)
    y = torch.cat((torch.randn(1000), torch.tensor([0.0, -0.0, 1e-30, -1e-30])))
    y1, y2 = y.clone().requires_grad_(), y.clone().requires_grad_()
    out = act(y1)
    assert torch.equal(out, F.relu(y2))
    grad = torch.randn_like(y)
    out.backward(grad)
    F.relu(y2).backward(grad)
    assert torch.equal(y1.grad, y2.grad)  # also at 0: a value at a knot takes the left interval


def test_the_output_is_the_piecewise_formula_on_hand_made_inputs():
    act = FAMTMatrixActivation(knots=(-1.0, 0.5), levels=(0.1, -2.0, 3.0))
    y = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 0.75, 4.0])
    # intervals (-inf, -1], (-1, 0.5], (0.5, inf)
    expected = torch.tensor([0.1 * -3, 0.1 * -1, -2.0 * -0.5, 0.0, -2.0 * 0.5, 3.0 * 0.75, 3.0 * 4])
    assert torch.allclose(act(y), expected)


def test_evenly_spaced_knots_and_relu_levels_by_default():
    act = FAMTMatrixActivation(num_intervals=5, knot_range=(-1.5, 1.5))
    assert act.knots.tolist() == [-1.5, -0.5, 0.5, 1.5]
    assert act.levels[0, 0].tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]  # 1 where the interval starts at >= 0
    with_zero = FAMTMatrixActivation(num_intervals=4, knot_range=(-1.0, 1.0))
    y = torch.randn(100)
    assert with_zero.knots.tolist() == [-1.0, 0.0, 1.0] and torch.equal(with_zero(y), F.relu(y))


def test_gradients_reach_the_levels_and_the_input_is_scaled_by_its_level():
    act = FAMTMatrixActivation(knots=(0.0, 1.0), levels=(0.2, 1.0, 1.5))
    y = torch.tensor([-2.0, 0.5, 3.0, 4.0], requires_grad=True)
    act(y).sum().backward()
    # d sum / d level_i = sum of the inputs in interval i
    assert torch.allclose(act.levels.grad[0, 0], torch.tensor([-2.0, 0.5, 7.0]))
    assert torch.allclose(y.grad, torch.tensor([0.2, 1.0, 1.5, 1.5]))
    frozen = FAMTMatrixActivation(trainable_levels=False)
    assert not frozen.levels.requires_grad


def test_trainable_knots_get_a_gradient_and_leave_the_forward_value_exact():
    act = FAMTMatrixActivation(
        knots=(0.0, 1.0), levels=(0.0, 1.0, 2.0), trainable_knots=True, knot_temperature=0.5
    )
    fixed = FAMTMatrixActivation(knots=(0.0, 1.0), levels=(0.0, 1.0, 2.0))
    y = torch.linspace(-2, 3, 41, requires_grad=True)
    out = act(y)
    assert torch.equal(out, fixed(y.detach()))
    out.sum().backward()
    # moving a knot right shrinks the higher interval next to it: with positive inputs and rising
    # levels the sum falls, so both knots' gradients are negative
    assert act.knots.grad is not None and (act.knots.grad < 0).all()
    assert act.levels.grad.abs().sum() > 0
    # the input's gradient stays the level (the surrogate only reaches the knots)
    assert torch.equal(y.grad, fixed.coefficient(y.detach(), 0, fixed.knots))


def test_per_channel_levels_along_the_last_or_the_second_axis():
    act = FAMTMatrixActivation(num_channels=3)
    act.levels.data[0, :, 1] = torch.tensor([1.0, 2.0, 3.0])
    y = torch.ones(2, 4, 3)
    assert torch.equal(act(y), torch.tensor([1.0, 2.0, 3.0]).expand(2, 4, 3))
    conv = FAMTMatrixActivation(num_channels=3, channel_dim=1)
    conv.levels.data[0, :, 1] = torch.tensor([1.0, 2.0, 3.0])
    assert torch.equal(conv(torch.ones(2, 3, 5, 5))[:, :, 0, 0], torch.tensor([[1.0, 2.0, 3.0]] * 2))
    with pytest.raises(ValueError, match='num_channels=3 but the input has 4 along channel_dim=-1'):
        act(torch.ones(2, 4))


def test_the_tridiagonal_form_mixes_the_neighbours():
    act = FAMTMatrixActivation(form='tridiagonal')
    y = torch.tensor([[1.0, -2.0, 3.0, 4.0]])
    assert torch.equal(act(y), F.relu(y))  # off-diagonal levels start at 0
    act.levels.data[1] = torch.tensor([[0.0, 0.5]])  # lower neighbour b: 0.5 on positives
    act.levels.data[2] = torch.tensor([[-1.0, 0.0]])  # upper neighbour c: -1 on non-positives
    # out_i = relu(y_i) + 0.5 relu(y_{i-1}) - min(y_{i+1}, 0)
    expected = torch.tensor([[1.0 + 2.0, 0.0 + 0.5, 3.0, 4.0 + 1.5]])
    assert torch.equal(act(y), expected)
    y.requires_grad_()
    act(y).sum().backward()
    assert act.levels.grad[1:].abs().sum() > 0


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(knots=(1.0, 0.0)), r'knots must be strictly increasing, got \(1.0, 0.0\)'),
        (dict(knots=(0.0, 0.0)), 'knots must be strictly increasing'),
        (
            dict(knots=(-1.0, 1.0), levels=(0.0, 1.0)),
            r'levels must hold one value per interval, len\(knots\) \+ 1 = 3',
        ),
        (dict(knots=(0.0,), num_intervals=3), r'num_intervals must be len\(knots\) \+ 1 = 2'),
        (dict(num_intervals=0), 'num_intervals must be an integer >= 1'),
        (dict(num_intervals=3, knot_range=(1.0, -1.0)), 'knot_range must be'),
        (dict(knots=(0.0, float('nan'))), 'knots must hold finite numbers'),
        (dict(knots='0'), 'knots must be a sequence of numbers'),
        (dict(form='full'), "form must be one of 'diagonal', 'tridiagonal'"),
        (dict(num_channels=0), 'num_channels must be None'),
        (dict(knot_temperature=0), 'knot_temperature must be a number > 0'),
        (dict(knots=(), trainable_knots=True), 'trainable_knots=True needs at least one knot'),
    ],
)
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FAMTMatrixActivation(**kwargs)


def test_mmcv_builds_it_under_the_mmpretrain_scope_and_mmpretrain_vit_ffn_uses_it():
    # the test session's default scope is mmpretrain, as under the Runner with default_scope='mmpretrain'
    assert DefaultScope.get_current_instance().scope_name == 'mmpretrain'
    act = build_activation_layer(dict(type='FAMTMatrixActivation', knots=(-1.0, 0.0, 1.0)))
    assert isinstance(act, FAMTMatrixActivation)
    vit = MODELS.build(
        dict(
            type='VisionTransformer',
            arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
            img_size=16,
            patch_size=4,
            layer_cfgs=dict(act_cfg=dict(type='FAMTMatrixActivation', num_channels=64)),
        )
    )
    acts = [m for m in vit.modules() if isinstance(m, FAMTMatrixActivation)]
    assert len(acts) == 2 and acts[0] is not acts[1]  # one per block, each with its own levels
    vit(torch.randn(2, 3, 16, 16))[0].sum().backward()
    assert all(a.levels.grad is not None for a in acts)


def test_convnext_blocks_take_it_channels_last():
    convnext = MODELS.build(
        dict(
            type='ConvNeXt',
            arch=dict(depths=[1, 1], channels=[8, 16]),
            out_indices=(1,),
            act_cfg=dict(type='FAMTMatrixActivation', form='tridiagonal'),
        )
    )
    out = convnext(torch.randn(1, 3, 32, 32))
    assert torch.isfinite(out[-1]).all()
    assert sum(isinstance(m, FAMTMatrixActivation) for m in convnext.modules()) == 2
