"""Object capture during pretraining, and the object oracle that masks from the true digit pixels.

Both read the training set's object masks (``dataset.object_masks()``, e.g.
:class:`famt_mm.datasets.FAMTClutteredDigits`); the measures are the pure functions of
:mod:`famt_mm.core.capture`.
"""

import json
import os.path as osp
from typing import List, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from ..core import (
    OBJECT_THRESHOLD,
    PLAN_GROUPS,
    mean_one,
    object_auc,
    object_lift,
    object_patches,
    patch_coverage,
    plan_object_counts,
    warp_to_views,
)
from ..models.masking.data_preprocessor import FAMTDataPreprocessor, _view_metainfo
from .checks import train_log_epoch
from .utils import unwrap_model


def dataset_object_masks(dataset) -> Optional[torch.Tensor]:
    """(N, H, W) uint8 object masks of the dataset by ``sample_idx``, or ``None`` if it has none."""
    masks = getattr(dataset, 'object_masks', None)
    if masks is None:
        return None
    return torch.from_numpy(np.ascontiguousarray(masks())).to(torch.uint8)


def _preprocessor(runner, owner: str) -> FAMTDataPreprocessor:
    preprocessor = unwrap_model(runner).data_preprocessor
    if not isinstance(preprocessor, FAMTDataPreprocessor):
        raise TypeError(
            f"{owner} needs the model's data_preprocessor to be FAMTDataPreprocessor, got "
            f'{type(preprocessor).__name__}'
        )
    return preprocessor


def _nanmean(values: torch.Tensor) -> float:
    values = values[~torch.isnan(values)]
    return float(values.mean()) if values.numel() else float('nan')


@HOOKS.register_module()
class FAMTObjectCaptureHook(Hook):
    """Measures whether the importance maps and the drawn plans land on the object.

    After every refresh of the importance cache (by ``FAMTRefreshHook`` or
    :class:`FAMTObjectOracleHook`) it compares the stored maps with the training images' object patches
    (:func:`famt_mm.core.object_auc`, the primary measure, and :func:`famt_mm.core.object_lift`). During
    training it counts, for every batch, the object patches among the masked, thrown and visible
    patches of the plan the preprocessor drew: each image's object mask is warped to its view (crop
    box and flips, with :func:`famt_mm.core.warp_to_views` as the importance maps are) and averaged
    over the view's patches. Those shares are reported per refresh interval (and for the last one at
    the end of training). Everything is logged, added to the visualizer's scalars and written to
    ``object_capture.json`` in the work dir.

    A training set without object masks (no ``object_masks()`` method) is reported once and
    skipped.

    Args:
        threshold (float): share of a patch's pixels on the object from which it is an object
            patch, in (0, 1]. Defaults to :data:`famt_mm.core.OBJECT_THRESHOLD` (0.1).
        batch_size (int): maps compared at once, >= 1. Defaults to 1024.
    """

    priority = 'LOW'  # after the refresh (NORMAL) has filled the cache for the coming epoch

    def __init__(self, threshold: float = OBJECT_THRESHOLD, batch_size: int = 1024):
        object_patches(torch.zeros(1), threshold)  # checks the threshold
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f'batch_size must be an integer >= 1, got {batch_size!r}')
        self.threshold = threshold
        self.batch_size = batch_size
        self.masks: Optional[torch.Tensor] = None
        self.maps: List[dict] = []
        self.plans: List[dict] = []
        self._seen = None
        self._counts = None
        self._since = 0

    def before_train(self, runner) -> None:
        self.masks = dataset_object_masks(runner.train_dataloader.dataset)
        if self.masks is None:
            runner.logger.warning(
                f'FAMTObjectCaptureHook: {type(runner.train_dataloader.dataset).__name__} has no object '
                'masks (object_masks()); object capture is skipped'
            )
            return
        _preprocessor(runner, 'FAMTObjectCaptureHook')
        self._since = runner.epoch

    def before_train_epoch(self, runner) -> None:
        if self.masks is None:
            return
        maps = _preprocessor(runner, 'FAMTObjectCaptureHook').importance_cache.maps
        if maps is None or maps is self._seen:
            return
        self._seen = maps
        self.flush_plans(runner)
        self.measure_maps(runner, maps)

    @torch.no_grad()
    def measure_maps(self, runner, maps: torch.Tensor) -> dict:
        """Compare the stored (N, h, w) maps with the object patches of the whole images."""
        if maps.shape[0] != self.masks.shape[0]:
            raise ValueError(
                f'the importance cache holds {maps.shape[0]} maps but the training set '
                f'has {self.masks.shape[0]} object masks'
            )
        aucs, lifts = [], []
        for start in range(0, maps.shape[0], self.batch_size):
            chunk = maps[start : start + self.batch_size].float()
            cover = patch_coverage(self.masks[start : start + self.batch_size], tuple(chunk.shape[1:]))
            objects = object_patches(cover, self.threshold)
            aucs.append(object_auc(chunk, objects))
            lifts.append(object_lift(chunk, objects))
        auc, lift = torch.cat(aucs), torch.cat(lifts)
        record = dict(
            epoch=runner.epoch, auc=_nanmean(auc), lift=_nanmean(lift), images=int((~torch.isnan(auc)).sum())
        )
        self.maps.append(record)
        runner.logger.info(
            f'object capture of the maps used from {train_log_epoch(runner.epoch)}: ROC-AUC '
            f'{record["auc"]:.3f} (0.5 = chance), lift {record["lift"]:.2f} (1 = uniform) over '
            f'{record["images"]} images'
        )
        runner.visualizer.add_scalars(
            {'capture/map_auc': record['auc'], 'capture/map_lift': record['lift']}, step=runner.epoch
        )
        self.write(runner)
        return record

    @torch.no_grad()
    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.masks is None or data_batch is None:
            return
        preprocessor = _preprocessor(runner, 'FAMTObjectCaptureHook')
        plan = preprocessor.last_plan
        samples = data_batch.get('data_samples') if isinstance(data_batch, dict) else None
        if plan is None or not samples:
            return
        indices, boxes, hflip, vflip = _view_metainfo(samples, len(samples))
        inputs = data_batch.get('inputs')
        height, width = inputs[0].shape[-2:] if inputs is not None and len(inputs) else self.masks.shape[1:]
        grid = (height // preprocessor.patch_size, width // preprocessor.patch_size)
        views = warp_to_views(self.masks[indices].float(), boxes, (height, width), hflip, vflip)
        objects = object_patches(patch_coverage(views, grid), self.threshold)
        counts = plan_object_counts(plan, objects)
        if self._counts is None:
            self._counts = {group: [0, 0] for group in counts}
        for group, (hit, total) in counts.items():
            self._counts[group][0] += hit
            self._counts[group][1] += total

    def flush_plans(self, runner) -> Optional[dict]:
        """Record the object shares of the plans drawn since the last flush."""
        if self._counts is None:
            return None
        # None for a group the plans left empty (no throwing), so the JSON stays strict
        shares = {group: (hit / total if total else None) for group, (hit, total) in self._counts.items()}
        record = dict(epochs=[self._since + 1, runner.epoch], **shares, patches=self._counts['all'][1])
        self.plans.append(record)
        self._counts, self._since = None, runner.epoch
        text = ', '.join(f'{g} {shares[g]:.3f}' for g in PLAN_GROUPS if shares[g] is not None)
        runner.logger.info(
            f'object share of the plans drawn in epochs {record["epochs"][0]}-{record["epochs"][1]} '
            f'(1-based): {text}; all patches {shares["all"]:.3f}'
        )
        runner.visualizer.add_scalars(
            {f'capture/plan_{g}': shares[g] for g in (*PLAN_GROUPS, 'all') if shares[g] is not None},
            step=runner.epoch,
        )
        self.write(runner)
        return record

    def after_train(self, runner) -> None:
        if self.masks is None:
            return
        self.flush_plans(runner)
        self.write(runner)

    def results(self) -> dict:
        return dict(threshold=self.threshold, maps=self.maps, plans=self.plans)

    def write(self, runner) -> None:
        with open(osp.join(runner.work_dir, 'object_capture.json'), 'w') as f:
            json.dump(self.results(), f, indent=2)


@HOOKS.register_module()
class FAMTObjectOracleHook(Hook):
    """An oracle, not FAMT: fills the importance cache from the dataset's true object masks.

    In place of ``FAMTRefreshHook`` (same schedule: random warm-up until ``start_epoch``, then a
    refresh every ``interval`` epochs) it stores, per image, each patch's share of object pixels plus
    ``background``, scaled to mean 1, so guided masking and throwing sample from the perfect map of
    where the digit is. The mask generator's ratios and ``throw_mode`` apply as for FAMT's maps. It
    measures what a map that finds the object exactly would give, the ceiling of FAMT's first claim.

    Args:
        start_epoch (int): epochs of warm-up before the first fill, >= 0. Defaults to 40.
        interval (int): epochs between fills, >= 1 (the map does not change; kept for the same
            schedule as the refresh hook). Defaults to 40.
        background (float): weight of a patch without object pixels, relative to 1 for a patch all
            object, > 0 (a patch at 0 would never be drawn before the object patches run out).
            Defaults to 0.1.
    """

    priority = 'NORMAL'

    def __init__(self, start_epoch: int = 40, interval: int = 40, background: float = 0.1, **ignored):
        if not isinstance(start_epoch, int) or start_epoch < 0:
            raise ValueError(f'start_epoch must be an integer >= 0, got {start_epoch!r}')
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be an integer >= 1, got {interval!r}')
        if not (isinstance(background, (int, float)) and background > 0):
            raise ValueError(f'background must be a number > 0, got {background!r}')
        unknown = set(ignored) - {'pipeline', 'batch_size', 'num_workers'}
        if unknown:  # the refresh hook's own arguments are accepted so a config can swap the type
            raise TypeError(f'FAMTObjectOracleHook got unexpected arguments {sorted(unknown)}')
        self.start_epoch = start_epoch
        self.interval = interval
        self.background = float(background)
        self.refreshed_epoch: Optional[int] = None

    def is_refresh_epoch(self, epoch: int) -> bool:
        return epoch >= self.start_epoch and (epoch - self.start_epoch) % self.interval == 0

    def before_train(self, runner) -> None:
        if dataset_object_masks(runner.train_dataloader.dataset) is None:
            raise TypeError(
                f'FAMTObjectOracleHook needs a training set with object masks '
                f'(object_masks(), e.g. FAMTClutteredDigits), got '
                f'{type(runner.train_dataloader.dataset).__name__}'
            )
        if not _preprocessor(runner, 'FAMTObjectOracleHook').mask_generator.needs_importance:
            raise ValueError(
                'FAMTObjectOracleHook fills importance maps, which the mask generator does not '
                'read: use a guided generator, e.g. FAMTMaskGenerator'
            )
        if runner.epoch > self.start_epoch and not self.is_refresh_epoch(runner.epoch):
            self.fill(runner)  # resumed past the warm-up: the cache is not in the checkpoint

    def before_train_epoch(self, runner) -> None:
        if self.is_refresh_epoch(runner.epoch):
            self.fill(runner)

    def oracle_maps(self, runner) -> torch.Tensor:
        """(N, gh, gw) mean-one maps: object share of each patch of the whole image + background."""
        preprocessor = _preprocessor(runner, 'FAMTObjectOracleHook')
        masks = dataset_object_masks(runner.train_dataloader.dataset)
        grid = (masks.shape[1] // preprocessor.patch_size, masks.shape[2] // preprocessor.patch_size)
        return mean_one(patch_coverage(masks, grid) + self.background)

    def fill(self, runner) -> None:
        maps = self.oracle_maps(runner)
        _preprocessor(runner, 'FAMTObjectOracleHook').importance_cache.set(maps)
        self.refreshed_epoch = runner.epoch
        runner.logger.info(
            f'object ORACLE: filled {maps.shape[0]} importance maps '
            f'{tuple(maps.shape[1:])} from the true object masks before '
            f'{train_log_epoch(runner.epoch)} (not FAMT scoring)'
        )
