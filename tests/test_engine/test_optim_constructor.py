"""FAMTOptimWrapperConstructor: fused AdamW where torch has it, a clear fallback where not, and an
optimizer step that stays eager under torch.compile and still works with mmengine's schedulers."""

import pytest
import torch
from mmengine.optim import LinearLR
from mmpretrain.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS

import famt_mm  # noqa: F401  (registers the constructor)
from famt_mm.engine.optim_constructor import fused_is_supported


class _AdamWWithoutFused(torch.optim.AdamW):
    """An AdamW that refuses ``fused=True`` when built, as torch 2.1's does for CPU parameters."""

    def __init__(self, params, fused=None, **kwargs):
        if fused:
            raise RuntimeError('`fused=True` requires all the params to be on a supported device')
        super().__init__(params, **kwargs)


OPTIMIZERS.register_module(name='_AdamWWithoutFused', module=_AdamWWithoutFused, force=True)


def _model():
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))


def _build(optimizer: dict, model=None):
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='FAMTOptimWrapperConstructor',
            optim_wrapper_cfg=dict(type='OptimWrapper', optimizer=dict(weight_decay=0.05, **optimizer)),
            paramwise_cfg=dict(custom_keys={'1': dict(decay_mult=0.0)}),
        )
    )
    return constructor(model or _model())


def test_fused_falls_back_with_a_warning_that_names_the_setting_and_device():
    with pytest.warns(
        UserWarning,
        match=r'optim_wrapper\.optimizer\.fused=True: torch .* has no '
        r'fused _AdamWWithoutFused for cpu parameters',
    ):
        optim_wrapper = _build(dict(type='_AdamWWithoutFused', lr=0.1, fused=True))
    assert isinstance(optim_wrapper.optimizer, _AdamWWithoutFused)
    assert optim_wrapper.param_groups[0]['lr'] == 0.1  # the rest of the settings kept


def test_fused_is_used_wherever_torch_has_it():
    model = _model()
    supported = fused_is_supported(torch.optim.AdamW, model.parameters())
    if supported:
        optim_wrapper = _build(dict(type='AdamW', lr=0.1, fused=True), model)
        assert optim_wrapper.optimizer.defaults['fused'] is True
    else:  # torch 2.1 on a CPU
        with pytest.warns(UserWarning, match='has no fused AdamW for cpu parameters'):
            optim_wrapper = _build(dict(type='AdamW', lr=0.1, fused=True), model)
        assert not optim_wrapper.optimizer.defaults.get('fused')
    assert not fused_is_supported(_AdamWWithoutFused, model.parameters())


def test_the_step_is_eager_under_compile_and_the_schedulers_still_count_it():
    model = _model()
    optim_wrapper = _build(dict(type='AdamW', lr=0.1), model)
    # torch.compiler.disable marks what dynamo must not trace
    assert getattr(optim_wrapper.step.__func__, '_torchdynamo_disable', False)
    scheduler = LinearLR(optim_wrapper, start_factor=0.5, by_epoch=False, begin=0, end=4)
    before = [p.detach().clone() for p in model.parameters()]
    counted, lr = optim_wrapper._global_step, optim_wrapper.param_groups[0]['lr']
    loss = model(torch.randn(2, 4)).square().sum()
    optim_wrapper.update_params(loss)
    scheduler.step()
    assert optim_wrapper._global_step == counted + 1  # mmengine's counter wraps the bound step
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert optim_wrapper.param_groups[0]['lr'] > lr  # the linear warm-up moved on
