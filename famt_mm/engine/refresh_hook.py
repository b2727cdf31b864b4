"""The refresh hook: scores the whole training set with the model being trained and stores the maps."""
import copy
import time
import warnings
from contextlib import nullcontext
from typing import List, Optional

import torch
from mmengine.dataset import Compose
from mmengine.dist import all_gather, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper
from mmengine.runner import EpochBasedTrainLoop
from mmengine.runner.amp import autocast
from mmengine.utils import ProgressBar
from mmpretrain.registry import HOOKS

from ..core import sanitize_weights
from ..models.data_preprocessor import FAMTDataPreprocessor
from ..models.scoring import score_images

#: where the importance cache travels inside an mmengine checkpoint (outside ``state_dict``, so
#: downstream loaders and exported backbones never see it)
CHECKPOINT_KEY = 'famt_importance'


@HOOKS.register_module()
class FAMTRefreshHook(Hook):
    """Refreshes the per-image importance maps at ``start_epoch`` and every ``interval`` epochs after.

    A refresh scores every training image once with the current model (eval mode, no gradient, AMP
    when training uses an ``AmpOptimWrapper``) on the whole image resized to the training size, using
    ``pipeline`` instead of the training augmentations. Under DDP each rank scores its shard and the
    shards are gathered by ``sample_idx``, so every rank holds the same full fp16 cache. The cache is
    saved in checkpoints and restored on resume; guided masking and throwing start with the first
    refresh (before it, the preprocessor masks at random without throwing).

    Args:
        pipeline (list[dict]): scoring transforms, e.g. load, ``Resize`` to the training size,
            ``PackInputs``. No crop, no flip.
        start_epoch (int): epochs of warm-up before the first refresh, >= 0. Defaults to 40.
        interval (int): epochs between refreshes, >= 1. Defaults to 40.
        batch_size (int, optional): scoring batch size; defaults to the training batch size.
        num_workers (int, optional): scoring workers; defaults to the training dataloader's.
    """
    priority = 'NORMAL'

    def __init__(self,
                 pipeline: List[dict],
                 start_epoch: int = 40,
                 interval: int = 40,
                 batch_size: Optional[int] = None,
                 num_workers: Optional[int] = None):
        if not isinstance(start_epoch, int) or start_epoch < 0:
            raise ValueError(f'start_epoch must be an integer >= 0, got {start_epoch!r}')
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be an integer >= 1, got {interval!r}')
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f'batch_size must be an integer >= 1, got {batch_size!r}')
        if not pipeline:
            raise ValueError('pipeline must list the scoring transforms (load, resize, pack)')
        self.pipeline = pipeline
        self.start_epoch = start_epoch
        self.interval = interval
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.refreshed_epoch: Optional[int] = None
        self._loader = None

    # ---------------------------------------------------------------- schedule
    def is_refresh_epoch(self, epoch: int) -> bool:
        """Whether a refresh runs before training epoch ``epoch`` (0-based, = epochs completed)."""
        return epoch >= self.start_epoch and (epoch - self.start_epoch) % self.interval == 0

    def before_train(self, runner) -> None:
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            raise TypeError('FAMTRefreshHook counts epochs: use an epoch-based train loop '
                            "(train_cfg=dict(type='EpochBasedTrainLoop', ...))")
        preprocessor = self._preprocessor(runner)
        if not preprocessor.mask_generator.needs_importance:
            return
        num_images = len(runner.train_dataloader.dataset)
        maps = preprocessor.importance_maps
        if maps is not None and maps.shape[0] != num_images:
            raise ValueError(f'the importance cache holds {maps.shape[0]} maps but the training set '
                             f'has {num_images} images: it belongs to another dataset')
        if maps is None and runner.epoch > self.start_epoch:
            # resumed past the warm-up from a checkpoint without maps: score now, not silently later
            runner.logger.warning(
                f'FAMT: resumed at epoch {runner.epoch} > start_epoch={self.start_epoch} without an '
                f'importance cache in the checkpoint; scoring the training set now')
            self.refresh(runner)

    def before_train_epoch(self, runner) -> None:
        if self._preprocessor(runner).mask_generator.needs_importance and \
                self.is_refresh_epoch(runner.epoch):
            self.refresh(runner)

    # ---------------------------------------------------------------- checkpoints
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        maps = self._preprocessor(runner).importance_maps
        if maps is not None:
            checkpoint[CHECKPOINT_KEY] = dict(maps=maps, epoch=self.refreshed_epoch)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is None:
            return
        self._preprocessor(runner).set_importance_maps(state['maps'])
        self.refreshed_epoch = state.get('epoch')
        runner.logger.info(f'FAMT: restored {state["maps"].shape[0]} importance maps '
                           f'(scored before epoch {self.refreshed_epoch}) from the checkpoint')

    # ---------------------------------------------------------------- scoring
    @torch.no_grad()
    def refresh(self, runner) -> None:
        """Score the training set and hand the gathered maps to the preprocessor."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        preprocessor = self._preprocessor(runner)
        generator = preprocessor.mask_generator
        loader = self._scoring_loader(runner)
        num_images = len(runner.train_dataloader.dataset)
        progress = ProgressBar(len(loader)) if is_main_process() else None
        amp = runner.optim_wrapper if isinstance(runner.optim_wrapper, AmpOptimWrapper) else None
        was_training = model.training
        model.eval()
        indices, maps = [], []
        start = time.perf_counter()
        try:
            for data in loader:
                data = preprocessor(data, training=False)
                with autocast(dtype=amp.cast_dtype) if amp is not None else nullcontext():
                    weights = score_images(model, data['inputs'], generator)
                # mean 1 per image before fp16: sampling ignores scale, and fp16 keeps the values
                # in range (unusable rows turn non-finite here and fall back to uniform later)
                weights = weights / weights.mean(dim=(1, 2), keepdim=True)
                maps.append(weights.half())
                indices.append(torch.tensor([s.sample_idx for s in data['data_samples']],
                                            device=weights.device))
                if progress is not None:
                    progress.update()
        finally:
            model.train(was_training)
        local_maps, local_indices = torch.cat(maps), torch.cat(indices)
        if get_world_size() > 1:
            # DefaultSampler pads every shard to the same length, so the shards gather as equal
            # tensors; padded duplicates write identical values.
            local_maps = torch.cat(all_gather(local_maps))
            local_indices = torch.cat(all_gather(local_indices))
        elapsed = time.perf_counter() - start
        cache = self._assemble(local_maps.cpu(), local_indices.cpu(), num_images)
        preprocessor.set_importance_maps(cache)
        self.refreshed_epoch = runner.epoch
        if progress is not None:
            print()
        runner.logger.info(
            f'FAMT: refreshed {num_images} importance maps {tuple(cache.shape[1:])} before epoch '
            f'{runner.epoch} with {type(generator).__name__} in {elapsed:.1f} s '
            f'({len(local_indices) / max(elapsed, 1e-9):.1f} images/s over '
            f'{get_world_size()} process(es))')

    @staticmethod
    def _assemble(maps: torch.Tensor, indices: torch.Tensor, num_images: int) -> torch.Tensor:
        """Scatter scored maps into an (N, h, w) fp16 cache by sample_idx; unusable maps -> uniform."""
        if indices.min() < 0 or indices.max() >= num_images:
            raise ValueError(f'scored sample_idx {int(indices.max())} outside the training set of '
                             f'{num_images} images')
        seen = torch.zeros(num_images, dtype=torch.bool)
        seen[indices] = True
        if not seen.all():
            raise RuntimeError(f'the refresh scored {int(seen.sum())} of {num_images} images: the '
                               'scoring sampler must cover the whole training set')
        flat, bad = sanitize_weights(maps.flatten(1))
        if bad.any():
            num_bad = len(set(indices[bad].tolist()))
            warnings.warn(f'FAMT: {num_bad} of {num_images} images had non-finite or non-positive '
                          'importance weights; they are masked uniformly at random until the next '
                          'refresh', stacklevel=2)
        cache = torch.empty(num_images, *maps.shape[1:], dtype=torch.float16)
        cache[indices] = flat.reshape(maps.shape).half()
        return cache

    def _scoring_loader(self, runner):
        """A loader over the training set's images with the scoring pipeline, sharded, unshuffled."""
        if self._loader is None:
            train_loader = runner.train_dataloader
            dataset = copy.copy(train_loader.dataset)  # shares the annotation list
            if not hasattr(dataset, 'pipeline'):
                raise TypeError(f'FAMTRefreshHook replaces the training dataset\'s pipeline, but '
                                f'{type(dataset).__name__} has none; wrapped datasets are not supported')
            dataset.pipeline = Compose(self.pipeline)
            num_workers = train_loader.num_workers if self.num_workers is None else self.num_workers
            self._loader = runner.build_dataloader(
                dict(dataset=dataset,
                     sampler=dict(type='DefaultSampler', shuffle=False),
                     batch_size=self.batch_size or train_loader.batch_size,
                     num_workers=num_workers,
                     persistent_workers=False,
                     collate_fn=dict(type='default_collate')),
                seed=runner.seed)
        return self._loader

    @staticmethod
    def _preprocessor(runner) -> FAMTDataPreprocessor:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        preprocessor = model.data_preprocessor
        if not isinstance(preprocessor, FAMTDataPreprocessor):
            raise TypeError('FAMTRefreshHook needs the model\'s data_preprocessor to be '
                            f'FAMTDataPreprocessor, got {type(preprocessor).__name__}')
        return preprocessor
