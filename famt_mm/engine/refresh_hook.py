"""The refresh hook: scores the whole training set with the model being trained and stores the maps."""
import time
import warnings
from contextlib import nullcontext
from typing import List, Optional

import torch
from mmengine.dist import all_gather, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper
from mmengine.runner import EpochBasedTrainLoop
from mmengine.runner.amp import autocast
from mmengine.utils import ProgressBar
from mmpretrain.registry import HOOKS

from ..core import mean_one, sanitize_weights
from ..models.masking.data_preprocessor import FAMTDataPreprocessor
from ..models.masking.scoring import score_images
from .checks import check_scoring_size, check_view_metainfo, train_log_epoch
from .utils import first_sample, unwrap_model, whole_image_dataset

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

    Epochs: ``start_epoch`` counts warm-up epochs, so the first refresh runs before epoch
    ``start_epoch + 1`` as mmengine's train log numbers them (``Epoch(train) [N]``, 1-based), and the
    hook's log lines use that numbering too. ``refreshed_epoch`` holds the 0-based
    ``runner.epoch`` (epochs completed) of the last refresh.

    Before the first step it checks what would otherwise fail or mislead only after the warm-up:
    the training pipeline must record ``crop_box`` and ``sample_idx`` (an error), and the scoring
    pipeline should produce images of the training view's size (a warning). A cache restored by
    ``load_from`` (a fresh schedule) whose size differs from the training set is dropped with a
    warning and scored again; on resume the same mismatch is an error.

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
        self.check_pipelines(runner)
        self._drop_cache_of_another_dataset(runner, preprocessor)
        if not preprocessor.guided and runner.epoch > self.start_epoch and \
                not self.is_refresh_epoch(runner.epoch):
            # past the warm-up without maps (resumed from a checkpoint without them, or a dropped
            # cache): score now, not silently at the next refresh
            runner.logger.warning(
                f'FAMT: at {train_log_epoch(runner.epoch)}, past the warm-up of start_epoch='
                f'{self.start_epoch} epochs, without an importance cache; scoring the training set '
                'now')
            self.refresh(runner)

    def check_pipelines(self, runner) -> None:
        """Run the training and scoring pipelines on the first image once and check their output:
        the view's metainfo (an error) and the scoring size (a warning)."""
        dataset = runner.train_dataloader.dataset
        train_inputs, metainfo = first_sample(dataset)
        check_view_metainfo(metainfo)
        score_inputs, _ = first_sample(whole_image_dataset(dataset, self.pipeline, 'FAMTRefreshHook'))
        message = check_scoring_size(train_inputs, score_inputs)
        if message:
            runner.logger.warning(f'FAMT: {message}')

    def _drop_cache_of_another_dataset(self, runner, preprocessor: FAMTDataPreprocessor) -> None:
        """A cache whose size is not the training set's: an error on resume, dropped on load_from."""
        num_images = len(runner.train_dataloader.dataset)
        cache = preprocessor.importance_cache
        if not cache.ready or len(cache) == num_images:
            return
        mismatch = (f'the importance cache holds {len(cache)} maps but the training set has '
                    f'{num_images} images')
        # mmengine resumes when cfg.resume is set (Runner.load_or_resume); a resumed loop has run
        if getattr(runner, '_resume', False) or runner.iter > 0:
            raise ValueError(f'{mismatch}: it belongs to another dataset. Resume needs the same '
                             'training set; to continue on a changed dataset use load_from=CKPT '
                             'without --resume (resume=False), which scores the new set afresh')
        cache.clear()
        self.refreshed_epoch = None
        runner.logger.warning(
            f'FAMT: {mismatch}: the checkpoint of load_from was trained on another dataset, so its '
            'cache is dropped and the training set is scored afresh (at the first refresh, or now '
            'if the warm-up is over)')

    def before_train_epoch(self, runner) -> None:
        if self._preprocessor(runner).mask_generator.needs_importance and \
                self.is_refresh_epoch(runner.epoch):
            self.refresh(runner)

    # ---------------------------------------------------------------- checkpoints
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = self._preprocessor(runner).importance_cache.state_dict()
        if state:
            checkpoint[CHECKPOINT_KEY] = dict(state, epoch=self.refreshed_epoch)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is None:
            return
        cache = self._preprocessor(runner).importance_cache
        cache.load_state_dict(state)
        self.refreshed_epoch = state.get('epoch')
        scored = 'at an unknown epoch' if self.refreshed_epoch is None else \
            f'before {train_log_epoch(self.refreshed_epoch)}'
        runner.logger.info(f'FAMT: restored {len(cache)} importance maps (scored {scored}) from '
                           'the checkpoint')

    # ---------------------------------------------------------------- scoring
    @torch.no_grad()
    def refresh(self, runner) -> None:
        """Score the training set and hand the gathered maps to the preprocessor."""
        model = unwrap_model(runner)
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
                # mean 1 per image before fp16 (unusable rows fall back to uniform in _assemble)
                maps.append(mean_one(weights).half())
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
        preprocessor.importance_cache.set(cache)
        self.refreshed_epoch = runner.epoch
        if progress is not None:
            print()
        runner.logger.info(
            f'FAMT: refreshed {num_images} importance maps {tuple(cache.shape[1:])} before '
            f'{train_log_epoch(runner.epoch)} with {type(generator).__name__} in {elapsed:.1f} s '
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
            dataset = whole_image_dataset(train_loader.dataset, self.pipeline, 'FAMTRefreshHook')
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
        preprocessor = unwrap_model(runner).data_preprocessor
        if not isinstance(preprocessor, FAMTDataPreprocessor):
            raise TypeError('FAMTRefreshHook needs the model\'s data_preprocessor to be '
                            f'FAMTDataPreprocessor, got {type(preprocessor).__name__}')
        return preprocessor
