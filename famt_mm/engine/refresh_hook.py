"""The refresh hook: scores the whole training set with the model being trained and stores the maps."""

import time
import warnings
from contextlib import nullcontext
from typing import Callable, List, Optional, Union

import torch
from mmengine.dataset import default_collate
from mmengine.dist import all_gather, broadcast, get_rank, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper
from mmengine.runner import EpochBasedTrainLoop
from mmengine.runner.amp import autocast
from mmengine.utils import ProgressBar
from mmpretrain.registry import HOOKS

from ..core import mean_one, sanitize_weights
from ..models.masking.data_preprocessor import FAMTDataPreprocessor
from ..models.masking.plan_taking import check_takes_plans
from ..models.masking.scoring import score_images
from .checks import (
    check_view_metainfo,
    is_random_transform,
    resolve_epochs,
    train_log_epoch,
    transform_type,
)
from .utils import (
    dataset_fingerprint,
    derived_whole_image_pipeline,
    first_sample,
    indexed_dataset,
    kept_random_state,
    unwrap_model,
    whole_image_dataset,
)

#: where the importance cache travels inside an mmengine checkpoint (outside ``state_dict``, so
#: downstream loaders and exported backbones never see it)
CHECKPOINT_KEY = 'famt_importance'
#: maps cleaned and written into the cache per step: bounds the assembly's temporaries (a few bytes per
#: cell of this many maps) whatever the size of the training set
ASSEMBLY_CHUNK = 65536


@HOOKS.register_module()
class FAMTRefreshHook(Hook):
    """Refreshes the per-image importance maps after a warm-up and then every ``interval`` epochs.

    A refresh scores every training image once with the current model (eval mode, no gradient, AMP
    when training uses an ``AmpOptimWrapper``) on the whole image resized to the training size, using
    ``pipeline`` instead of the training augmentations. Under DDP each rank scores its shard and the
    shards are exchanged one at a time and placed by ``sample_idx`` (:meth:`_assemble`), so every rank
    holds the same full fp16 cache. The cache is saved in checkpoints and restored on resume, on any
    number of ranks; guided masking and throwing start with the first refresh (before it, the
    preprocessor masks at random without throwing).

    Epochs: ``start_epoch`` counts warm-up epochs, so the first refresh runs before epoch
    ``start_epoch + 1`` as mmengine's train log numbers them (``Epoch(train) [N]``, 1-based), and the
    hook's log lines use that numbering too. ``refreshed_epoch`` holds the 0-based
    ``runner.epoch`` (epochs completed) of the last refresh. Both settings may be given as fractions of
    the schedule (the published runs refresh after 10 % of the epochs and every 10 % after: 40 and 40
    of 400, 80 of 800), which is the default, so one setting serves every schedule.

    Before the first step it derives or checks what would otherwise fail or mislead only after the
    warm-up: the training pipeline must record ``crop_box`` and ``sample_idx``; the scoring pipeline
    (derived from the training pipeline when not given) runs one real scoring step on the first
    image (pipeline, preprocessor, scoring), which must give maps on the training views' patch grid.

    Checkpoints carry the cache and a digest of the training set's annotations. ``--resume``
    restores the cache only for the same training set (same images, same order; anything else is an
    error); ``load_from`` without resuming starts a fresh schedule, so it takes the weights and leaves
    the checkpoint's maps unused: the run warms up and scores with the loaded weights at its first
    refresh. (mmpretrain's MAE configs set ``resume = True``, which makes ``load_from`` resume.)
    ``RepeatDataset`` and ``ClassBalancedDataset`` keep one map per image of the wrapped dataset.

    Args:
        pipeline (list[dict], optional): scoring transforms: loading, a ``Resize`` to the training
            size, ``PackInputs``; no crop, no flip. Defaults to None: derived from the training
            pipeline (its transforms before ``FAMTRandomResizedCropWithBox``, a resize to the crop's output
            size with the crop's interpolation and backend, ``PackInputs``). Two-picture crops (BEiT,
            CAE) need it given.
        start_epoch (int | float): warm-up epochs before the first refresh, an integer >= 0 or a
            fraction of the schedule in (0, 1). Defaults to 0.1.
        interval (int | float): epochs between refreshes, an integer >= 1 or a fraction of the
            schedule in (0, 1). Defaults to 0.1.
        batch_size (int, optional): scoring batch size; defaults to the training batch size.
        num_workers (int, optional): scoring workers; defaults to the training dataloader's.
    """

    priority = 'NORMAL'

    def __init__(
        self,
        pipeline: Optional[List[dict]] = None,
        start_epoch: Union[int, float] = 0.1,
        interval: Union[int, float] = 0.1,
        batch_size: Optional[int] = None,
        num_workers: Optional[int] = None,
    ):
        # checked now (a fraction is resolved against the schedule before training)
        resolve_epochs(start_epoch, 1, 'start_epoch', 0)
        resolve_epochs(interval, 1, 'interval', 1)
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f'batch_size must be an integer >= 1, got {batch_size!r}')
        if pipeline is not None and not pipeline:
            raise ValueError(
                'pipeline must list the scoring transforms (load, resize, pack), or be '
                'None to derive them from the training pipeline'
            )
        self.pipeline = pipeline
        #: the settings as given; start_epoch and interval are whole epochs once training starts
        self.schedule = (start_epoch, interval)
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

    def before_run(self, runner) -> None:
        check_takes_plans(unwrap_model(runner))

    def before_train(self, runner) -> None:
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            raise TypeError(
                'FAMTRefreshHook counts epochs: use an epoch-based train loop '
                "(train_cfg=dict(type='EpochBasedTrainLoop', ...))"
            )
        preprocessor = self._preprocessor(runner)
        train_inputs, metainfo = first_sample(runner.train_dataloader.dataset)
        train_size = tuple(train_inputs.shape[-2:])
        taker = unwrap_model(runner).plan_taking_module()
        if hasattr(taker, 'check_view_grid'):
            taker.check_view_grid(preprocessor.patch_grid(train_inputs[None]))
        plans = preprocessor.describe_plans(train_inputs[None])
        if not preprocessor.mask_generator.needs_importance:
            runner.logger.info(
                f'FAMT: {preprocessor.mask_generator!r} masks at random, no importance refresh: {plans}'
            )
            return
        max_epochs = runner.train_loop.max_epochs
        self.start_epoch = resolve_epochs(self.schedule[0], max_epochs, 'start_epoch', 0)
        self.interval = resolve_epochs(self.schedule[1], max_epochs, 'interval', 1)
        if self.start_epoch >= max_epochs:
            raise ValueError(
                f'FAMTRefreshHook(start_epoch={self.schedule[0]}) is {self.start_epoch} '
                f"warm-up epochs, not fewer than the schedule's {max_epochs}: the whole run "
                'would mask at random and never refresh; lower start_epoch (e.g. a '
                'fraction such as 0.1) or use FAMTRandomMaskGenerator for plain random masking'
            )
        check_view_metainfo(metainfo)
        if self.pipeline is None:
            self.pipeline = derived_whole_image_pipeline(
                runner.train_dataloader.dataset, 'FAMTRefreshHook', train_size
            )
        self.score_first_image(runner, train_size)
        refreshes = list(range(self.start_epoch, max_epochs, self.interval))
        shown = ', '.join(str(e + 1) for e in refreshes[:4]) + (', ...' if len(refreshes) > 4 else '')
        runner.logger.info(
            f'FAMT: {preprocessor.mask_generator!r}: {plans}; refreshes before epochs {shown} '
            f'(1-based; start_epoch={self.schedule[0]}, interval={self.schedule[1]} of {max_epochs} '
            f'epochs), scoring with {[transform_type(t) for t in self.pipeline]}'
        )
        if (
            not preprocessor.guided
            and runner.epoch > self.start_epoch
            and not self.is_refresh_epoch(runner.epoch)
        ):
            # past the warm-up without maps (resumed from a checkpoint without them, or a dropped
            # cache): score now, not silently at the next refresh
            runner.logger.warning(
                f'FAMT: at {train_log_epoch(runner.epoch)}, past the warm-up of start_epoch='
                f'{self.start_epoch} epochs, without an importance cache; scoring the training set '
                'now'
            )
            self.refresh(runner)

    @torch.no_grad()
    def score_first_image(self, runner, train_size) -> None:
        """One real scoring step (pipeline, collate, preprocessor, scoring) on the first image."""
        types = [transform_type(t) for t in self.pipeline]
        random = [name for name in types if is_random_transform(name)]
        if random:
            raise ValueError(
                f'the scoring pipeline {types} has random transforms {random}: maps are '
                'stored for the whole image and warped to each view, so the scoring '
                'pass takes the whole image (loading, a Resize, PackInputs), no crop, no flip'
            )
        advice = (
            "it needs the training pipeline's loading (e.g. LoadImageFromFile), a Resize to the "
            f'training size ({train_size[1]}, {train_size[0]}) (width, height) and PackInputs'
        )
        dataset = whole_image_dataset(runner.train_dataloader.dataset, self.pipeline, 'FAMTRefreshHook')
        try:
            with kept_random_state():
                item = dataset[0]
        except Exception as e:  # noqa: BLE001  (any failure of a user pipeline is named, with its cause)
            raise ValueError(
                f'the scoring pipeline {types} fails on the first training image '
                f'({type(e).__name__}: {e}); {advice}'
            ) from e
        if not isinstance(item, dict) or 'inputs' not in item or 'data_samples' not in item:
            raise ValueError(f'the scoring pipeline {types} does not pack its output; {advice}')
        score_size = tuple(item['inputs'].shape[-2:])
        if score_size != train_size:
            raise ValueError(
                f'the scoring pipeline gives {score_size[0]}x{score_size[1]} images but the '
                f'training views are {train_size[0]}x{train_size[1]}: maps are scored on '
                f'the whole image at the training size; {advice}'
            )
        model = unwrap_model(runner)
        preprocessor = self._preprocessor(runner)
        was_training = model.training
        model.eval()
        try:
            data = preprocessor(default_collate([item]), training=False)
            with self._training_autocast(runner):
                score_images(model, data['inputs'], preprocessor.mask_generator)
        except Exception as e:  # noqa: BLE001
            raise ValueError(
                f'one scoring step on the first training image failed '
                f'({type(e).__name__}: {e}): the scoring pipeline {types}, the data '
                'preprocessor and the backbone must agree'
            ) from e
        finally:
            model.train(was_training)

    def before_train_epoch(self, runner) -> None:
        if self._preprocessor(runner).mask_generator.needs_importance and self.is_refresh_epoch(runner.epoch):
            self.refresh(runner)

    # ---------------------------------------------------------------- checkpoints
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = self._preprocessor(runner).importance_cache.state_dict()
        if state:
            checkpoint[CHECKPOINT_KEY] = dict(
                state,
                epoch=self.refreshed_epoch,
                dataset=dataset_fingerprint(runner.train_dataloader.dataset),
            )

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is None:
            return
        if not getattr(runner, '_resume', False):  # load_from: a fresh schedule (mmengine's flag)
            runner.logger.info(
                f"FAMT: load_from starts a fresh schedule: the checkpoint's {len(state['maps'])} "
                'importance maps are not used; the training set is scored with the loaded weights at '
                'the first refresh'
            )
            return
        loaded = checkpoint.get('state_dict', {})
        ours = unwrap_model(runner).state_dict()
        unloaded = [k for k, v in ours.items() if k not in loaded or tuple(loaded[k].shape) != tuple(v.shape)]
        if unloaded:  # mmengine loads non-strictly: the maps would belong to weights that did not load
            runner.logger.warning(
                f"FAMT: the checkpoint does not hold {len(unloaded)} of the model's weights (e.g. "
                f'{unloaded[0]}): its importance maps are not used; the training set is scored again'
            )
            return
        dataset = runner.train_dataloader.dataset
        num_images = len(indexed_dataset(dataset))
        if len(state['maps']) != num_images or state.get(
            'dataset', dataset_fingerprint(dataset)
        ) != dataset_fingerprint(dataset):
            raise ValueError(
                f"the checkpoint's importance cache ({len(state['maps'])} maps) was scored on another "
                f'training set than this one ({num_images} images, other annotations): resume needs '
                'the same training set. To continue on a changed dataset, load the weights without '
                'resuming (load_from=CKPT, resume=False): a fresh schedule scores the new set'
            )
        cache = self._preprocessor(runner).importance_cache
        cache.load_state_dict(state)
        self.refreshed_epoch = state.get('epoch')
        scored = (
            'at an unknown epoch'
            if self.refreshed_epoch is None
            else f'before {train_log_epoch(self.refreshed_epoch)}'
        )
        runner.logger.info(
            f'FAMT: restored {len(cache)} importance maps (scored {scored}) from the checkpoint'
        )

    # ---------------------------------------------------------------- scoring
    @staticmethod
    def _training_autocast(runner):
        """The autocast of the training steps (an ``AmpOptimWrapper``'s dtype), else none."""
        amp = runner.optim_wrapper if isinstance(runner.optim_wrapper, AmpOptimWrapper) else None
        return autocast(dtype=amp.cast_dtype) if amp is not None else nullcontext()

    @torch.no_grad()
    def refresh(self, runner) -> None:
        """Score the training set and hand the assembled maps to the preprocessor."""
        model = unwrap_model(runner)
        preprocessor = self._preprocessor(runner)
        generator = preprocessor.mask_generator
        loader = self._scoring_loader(runner)
        num_images = len(indexed_dataset(runner.train_dataloader.dataset))
        progress = ProgressBar(len(loader)) if is_main_process() else None
        was_training = model.training
        model.eval()
        indices, maps = [], []
        start = time.perf_counter()
        try:
            for data in loader:
                data = preprocessor(data, training=False)
                with self._training_autocast(runner):
                    weights = score_images(model, data['inputs'], generator)
                # mean 1 per image before fp16 (unusable rows fall back to uniform in _assemble)
                maps.append(mean_one(weights).half())
                indices.append(
                    torch.tensor([s.sample_idx for s in data['data_samples']], device=weights.device)
                )
                if progress is not None:
                    progress.update()
        finally:
            model.train(was_training)
        local_maps, local_indices = torch.cat(maps), torch.cat(indices)
        del maps, indices  # one copy of this rank's shard, not two
        first = not preprocessor.guided
        # the previous maps go once the new ones are known to cover every image, before the new cache
        # is allocated: two full caches never coexist
        cache = self._assemble(
            local_maps, local_indices, num_images, release=preprocessor.importance_cache.clear
        )
        del local_maps, local_indices
        elapsed = time.perf_counter() - start
        preprocessor.importance_cache.set(cache)
        self.refreshed_epoch = runner.epoch
        if progress is not None:
            print()
        runner.logger.info(
            f'FAMT: refreshed {num_images} importance maps {tuple(cache.shape[1:])} before '
            f'{train_log_epoch(runner.epoch)} with {type(generator).__name__} in {elapsed:.1f} s '
            f'({num_images / max(elapsed, 1e-9):.1f} images/s over {get_world_size()} process(es))'
            + ('; masking is guided from now on' if first else '')
        )

    @staticmethod
    def _assemble(
        maps: torch.Tensor,
        indices: torch.Tensor,
        num_images: int,
        release: Optional[Callable[[], None]] = None,
    ) -> torch.Tensor:
        """The (N, h, w) fp16 CPU cache of every rank's scored maps, placed by ``sample_idx``; maps that
        are not usable (non-finite, negative, zero) become uniform.

        Under DDP the ranks first exchange their indices (together they must cover every image; checked
        before any map moves), then each rank's maps in turn, broadcast from that rank and written into
        the cache as they arrive, ``ASSEMBLY_CHUNK`` maps at a time: besides the cache a rank holds its
        own shard and one received shard, never every rank's maps at once. Every rank writes the shards
        in rank order, so the duplicates of a padded shard resolve alike and all caches are equal.

        Args:
            maps (Tensor): (n, h, w) maps this rank scored, on the scoring device.
            indices (Tensor): (n, ) their ``sample_idx``, on the same device.
            num_images (int): N, the size of the training set the maps index.
            release (callable, optional): called once the indices are checked, before the cache is
                allocated (the hook drops the previous cache there).
        """
        world_size, rank = get_world_size(), get_rank()
        shard_indices = [indices]
        if world_size > 1:
            # shards may differ in length (a sampler that does not pad): sizes first, then each shard
            sizes = [int(size) for size in all_gather(indices.new_tensor([len(indices)]))]
            shard_indices = []
            for src, size in enumerate(sizes):
                shard = indices if src == rank else indices.new_empty(size)
                broadcast(shard, src)
                shard_indices.append(shard)
        shard_indices = [shard.cpu() for shard in shard_indices]
        every = torch.cat(shard_indices)
        if every.min() < 0 or every.max() >= num_images:
            raise ValueError(
                f'scored sample_idx {int(every.max())} outside the training set of {num_images} images'
            )
        seen = torch.zeros(num_images, dtype=torch.bool)
        seen[every] = True
        if not seen.all():
            raise RuntimeError(
                f'the refresh scored {int(seen.sum())} of {num_images} images: the '
                'scoring sampler must cover the whole training set'
            )
        del every, seen
        if release is not None:
            release()
        cache = torch.empty(num_images, *maps.shape[1:], dtype=torch.float16)
        rows_of_cache = cache.view(num_images, -1)
        bad_images = torch.zeros(num_images, dtype=torch.bool)
        # one receive buffer for every other rank's shard (not one allocation per shard)
        received = (
            maps.new_empty((max(len(i) for i in shard_indices), *maps.shape[1:])) if world_size > 1 else None
        )
        for src, shard_idx in enumerate(shard_indices):
            shard = maps if src == rank else received[: len(shard_idx)]
            if world_size > 1:
                broadcast(shard, src)  # sends from rank src, receives on the others
            for start in range(0, len(shard_idx), ASSEMBLY_CHUNK):
                rows = shard_idx[start : start + ASSEMBLY_CHUNK]
                clean, bad = sanitize_weights(shard[start : start + ASSEMBLY_CHUNK].flatten(1).cpu())
                rows_of_cache[rows] = clean.to(torch.float16)
                bad_images[rows] = bad  # the last write of an image decides, as for its map
        del received
        if bad_images.any():
            warnings.warn(
                f'FAMT: {int(bad_images.sum())} of {num_images} images had non-finite or '
                'non-positive importance weights; they are masked uniformly at random until '
                'the next refresh',
                stacklevel=2,
            )
        return cache

    def _scoring_loader(self, runner):
        """A loader over the training set's images with the scoring pipeline, sharded, unshuffled."""
        if self._loader is None:
            train_loader = runner.train_dataloader
            dataset = whole_image_dataset(train_loader.dataset, self.pipeline, 'FAMTRefreshHook')
            num_workers = train_loader.num_workers if self.num_workers is None else self.num_workers
            self._loader = runner.build_dataloader(
                dict(
                    dataset=dataset,
                    sampler=dict(type='DefaultSampler', shuffle=False),
                    batch_size=self.batch_size or train_loader.batch_size,
                    num_workers=num_workers,
                    persistent_workers=False,
                    collate_fn=dict(type='default_collate'),
                ),
                seed=runner.seed,
            )
        return self._loader

    @staticmethod
    def _preprocessor(runner) -> FAMTDataPreprocessor:
        preprocessor = unwrap_model(runner).data_preprocessor
        if not isinstance(preprocessor, FAMTDataPreprocessor):
            raise TypeError(
                "FAMTRefreshHook needs the model's data_preprocessor to be "
                f'FAMTDataPreprocessor, got {type(preprocessor).__name__}'
            )
        return preprocessor
