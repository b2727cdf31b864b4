"""The runner of famt_mm's configs: mmengine's Runner with a few small differences (``runner_type``)."""

import copy
from typing import Dict, Union

# the root registry: mmpretrain's tools/train.py builds a config's runner_type through mmengine's
# RUNNERS before any scope is set (mmpretrain's RUNNERS finds it there too)
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader

from ..models.masking.plan_taking import check_takes_plans

#: the optimizer wrapper constructor used when a config names none
DEFAULT_CONSTRUCTOR = 'FAMTOptimWrapperConstructor'
#: top-level names that set nothing (no config reads them), and where each setting lives
MISPLACED_SETTINGS = {
    'mask_ratio': 'data_preprocessor.mask_generator.mask_ratio',
    'throw_ratio': 'data_preprocessor.mask_generator.throw_ratio',
    'warmup_mask_ratio': 'data_preprocessor.mask_generator.warmup_mask_ratio',
    'mask_generator': 'data_preprocessor.mask_generator',
    'refresh_start_epoch': 'custom_hooks.N.start_epoch (the FAMTRefreshHook entry)',
    'refresh_interval': 'custom_hooks.N.interval (the FAMTRefreshHook entry)',
    'refresh_batch_size': 'custom_hooks.N.batch_size (the FAMTRefreshHook entry)',
    'img_size': "model.backbone.img_size and the training crop's scale",
    'patch_size': 'model.backbone.patch_size (the rest follows it)',
    'unit_size': 'data_preprocessor.unit_size',
}


@RUNNERS.register_module()
class FAMTRunner(Runner):
    """mmengine's ``Runner``, selected with ``runner_type = 'FAMTRunner'`` (the FAMT base config sets
    it; mmpretrain's ``tools/train.py`` builds the runner through ``RUNNERS`` when a config names one).

    - A ``collate_fn`` dict inherited from another package's config (``_base_ = 'mmpretrain::...'``)
      carries mmengine's ``_scope_`` key, which mmengine's ``build_dataloader`` would pass to the
      collate function as an argument (``TypeError: default_collate() got an unexpected keyword
      argument '_scope_'``); here the key is dropped, so inherited dataloaders work as they are.
    - A model whose FAMT data preprocessor draws mask plans that the model does not take (a stock
      ``MAE`` left in a FAMT config) is refused when it is built, naming the FAMT algorithm.
    - A FAMT setting written at the top level of the config (``--cfg-options mask_ratio=0.3``), where
      nothing reads it, is refused with the place it belongs.
    - ``--resume`` reads the checkpoint to the CPU (mmengine's default reads it to the GPU, the
      importance cache with it).
    - An ``optim_wrapper`` that names no ``constructor`` gets ``FAMTOptimWrapperConstructor``
      (mmengine's default constructor, plus torch's fused AdamW where it has one for the parameters'
      device, and an optimizer step that ``compile=True`` leaves eager; see that class).
    """

    @classmethod
    def from_cfg(cls, cfg) -> 'FAMTRunner':
        misplaced = {name: where for name, where in MISPLACED_SETTINGS.items() if name in cfg}
        if misplaced:
            raise ValueError(
                'top-level settings that nothing reads (a config or --cfg-options): '
                + '; '.join(f'{name} is set as {where}' for name, where in misplaced.items())
            )
        return super().from_cfg(cfg)

    @staticmethod
    def build_dataloader(
        dataloader: Union[DataLoader, Dict], seed=None, diff_rank_seed: bool = False
    ) -> DataLoader:
        if (
            isinstance(dataloader, dict)
            and isinstance(dataloader.get('collate_fn'), dict)
            and '_scope_' in dataloader['collate_fn']
        ):
            # the collate functions live in mmengine's FUNCTIONS registry, which no OpenMMLab package
            # extends: the scope only marks where the dict came from
            dataloader = copy.copy(dataloader)
            dataloader['collate_fn'] = {k: v for k, v in dataloader['collate_fn'].items() if k != '_scope_'}
        return Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)

    def resume(
        self,
        filename: str,
        resume_optimizer: bool = True,
        resume_param_scheduler: bool = True,
        map_location='default',
    ) -> None:
        # mmengine's 'default' loads the whole checkpoint onto this rank's GPU, importance cache included
        # (5.6 GB at ImageNet-22K); from the CPU, torch copies weights and optimizer states to their
        # devices as it loads them
        super().resume(
            filename,
            resume_optimizer,
            resume_param_scheduler,
            'cpu' if map_location == 'default' else map_location,
        )

    def build_model(self, model: Union[nn.Module, Dict]) -> nn.Module:
        model = super().build_model(model)
        check_takes_plans(model)
        return model

    def build_optim_wrapper(self, optim_wrapper):
        if (
            isinstance(optim_wrapper, dict)
            and 'optimizer' in optim_wrapper
            and 'constructor' not in optim_wrapper
        ):
            optim_wrapper = dict(optim_wrapper, constructor=DEFAULT_CONSTRUCTOR)
        return super().build_optim_wrapper(optim_wrapper)
