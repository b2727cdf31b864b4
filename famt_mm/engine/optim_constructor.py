"""The optimizer wrapper constructor of the pretraining configs: mmengine's default one, plus a fused
AdamW where torch has it and an optimizer step that ``torch.compile`` leaves eager.

The optimizer step does not shrink with the token count, so it weighs more in FAMT's cheaper step;
torch's fused AdamW (``fused=True``) updates all parameters in one kernel (measured in
docs/speed.md). torch 2.1, the classic OpenMMLab environment, has it for CUDA parameters only and
refuses it on a CPU when the optimizer is built; this constructor uses it wherever the parameters'
device has one and torch's default implementation elsewhere. Why the step stays eager under
mmengine's ``compile=True``: docs/speed.md, "Compile".
"""

import types
import warnings
from typing import Iterable

import torch
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmpretrain.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS


def fused_is_supported(optimizer_type, params: Iterable[torch.Tensor]) -> bool:
    """Whether ``optimizer_type(..., fused=True)`` accepts parameters on the device of ``params``.

    Asked of the optimizer itself, with one scalar parameter on the first parameter's device:
    torch's support differs by version and device.
    """
    device = next(iter(params)).device
    probe = torch.zeros(1, device=device, requires_grad=True)
    try:
        optimizer_type([probe], fused=True)
    except (RuntimeError, ValueError, TypeError):
        return False
    return True


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FAMTOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's ``DefaultOptimWrapperConstructor`` (same arguments, same ``paramwise_cfg``), with:

    - torch's fused implementation of the optimizer where torch has one for the parameters' device:
      by default (no ``fused`` key) it is used where available and silently not elsewhere;
      ``optimizer=dict(fused=True)`` asks for it and warns, naming the setting and device, where it
      is missing (torch 2.1 on a CPU); ``fused=False`` keeps torch's default implementation;
    - the optimizer wrapper's ``step`` wrapped in ``torch.compiler.disable``, so that a Runner with
      ``compile=True`` compiles the model's forward and backward and runs the update eagerly.

    ``FAMTRunner`` (the FAMT base config's ``runner_type``) uses it for every ``optim_wrapper`` that
    names no constructor; elsewhere: ``optim_wrapper = dict(constructor='FAMTOptimWrapperConstructor')``.
    """

    def __call__(self, model: torch.nn.Module) -> OptimWrapper:
        asked = self.optimizer_cfg.get('fused')
        if asked is None or asked:
            optimizer_type = self.optimizer_cfg['type']
            if isinstance(optimizer_type, str):
                optimizer_type = OPTIMIZERS.get(optimizer_type)
            params = [p for p in model.parameters() if p.requires_grad]
            supported = bool(params) and fused_is_supported(optimizer_type, params)
            if asked and not supported and params:
                warnings.warn(
                    f'optim_wrapper.optimizer.fused=True: torch {torch.__version__} has no fused '
                    f'{optimizer_type.__name__} for {params[0].device.type} parameters; using its '
                    'default implementation',
                    stacklevel=2,
                )
            self.optimizer_cfg = {k: v for k, v in self.optimizer_cfg.items() if k != 'fused'}
            if supported:
                self.optimizer_cfg['fused'] = True
        optim_wrapper = super().__call__(model)
        # a bound method still: mmengine's parameter schedulers wrap it and need its __self__
        optim_wrapper.step = types.MethodType(torch.compiler.disable(type(optim_wrapper).step), optim_wrapper)
        return optim_wrapper
