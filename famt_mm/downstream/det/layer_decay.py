"""mmpretrain's layer-wise lr decay for detectors whose backbone knows its layer depths."""

from functools import partial
from typing import Callable, List, Optional

from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FAMTViTLayerDecayOptimWrapperConstructor(LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's ``LearningRateDecayOptimWrapperConstructor`` with depths from ``model.backbone``.

    mmpretrain asks the whole model for ``get_layer_depth``; an mmdet detector has none, so the depth
    comes from ``model.backbone.get_layer_depth(name, 'backbone.')`` (e.g. :class:`FAMTPlainViT`): block i of
    N gets lr x ``layer_decay_rate ** (N - i)``, the embeddings ``** (N + 1)``, neck and heads x 1. All
    of mmpretrain's ``paramwise_cfg`` keys apply (``layer_decay_rate``, ``norm_decay_mult``,
    ``bias_decay_mult``, ``flat_decay_mult``, ``custom_keys``).
    """

    def add_params(
        self,
        params: List[dict],
        module: nn.Module,
        prefix: str = '',
        get_layer_depth: Optional[Callable] = None,
        **kwargs,
    ) -> None:
        if get_layer_depth is None:
            backbone = getattr(module, 'backbone', None)
            if not hasattr(backbone, 'get_layer_depth'):
                raise TypeError(
                    f'{type(self).__name__} needs model.backbone.get_layer_depth; '
                    f'{type(backbone).__name__} has none'
                )
            get_layer_depth = partial(backbone.get_layer_depth, prefix='backbone.')
        super().add_params(params, module, prefix=prefix, get_layer_depth=get_layer_depth, **kwargs)
