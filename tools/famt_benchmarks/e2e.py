"""End-to-end benchmark: each method of a pair trained through mmengine's Runner from its config.

The library of ``tools/benchmark_e2e.py``. Both methods of a pair (:data:`.step.PAIRS`) train on
the same image folder with the same batch, workers and device for a few epochs; FAMT's refresh runs
once, before epoch ``refresh_start``, and guided masking and throwing follow it. A hook
(:class:`EpochTimer`) records, per epoch, the wall time (after the refresh, checkpoint included),
and per iteration the wait for data (mmengine's ``data_time``: from the end of the previous
iteration to the batch's arrival), the ``train_step`` and the whole iteration (mmengine's ``time``:
data, step, hooks and logging); it also times each refresh. Only epochs from ``refresh_start`` on
are summarised, for both methods alike: epoch 0 also pays worker start-up and first-step costs.
:func:`compare_e2e` puts the two methods' figures side by side; ``report`` formats them.
"""

import copy
import gc
import os.path as osp
import shutil
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from .loader import pipeline_throughput, workers_needed
from .measure import eager_around_model, synchronize
from .report import Limit
from .step import Method, configure_optim_wrapper, load_config, shrink_model_cfg

#: options of ``--tiny``: a small encoder and decoder at 96 px (3 x 3 SimMIM units of 32 px: SimMIM's
#: rounded-up counts leave none visible at 2 x 2), for testing the tools on a CPU
TINY = dict(arch='deit-tiny', img_size=96)
TINY_DECODER = dict(decoder_embed_dim=64, decoder_depth=1, decoder_num_heads=2)
REFRESH_HOOK = 'FAMTRefreshHook'
#: the step waited for data longer than this share of the iteration time: the loader sets the pace
PACE_SHARE = 0.05


@dataclass
class E2EOptions:
    """How both methods of a pair are trained.

    Args:
        data_root (str): image folder (searched recursively; labels unused).
        batch_size (int): training batch. workers (int): loader workers.
        epochs (int): epochs trained, > ``refresh_start``.
        refresh_start (int): epoch before which FAMT's first (and only) refresh runs, >= 1.
        refresh_batch_size (int, optional): scoring batch; the config's when None.
        arch (str), img_size (int): encoder arch and input size (the configs': ``b``, 224).
        tiny_decoder (bool): shrink MAE's decoder to :data:`TINY_DECODER` (tests, ``--tiny``).
        amp (bool): the configs' ``AmpOptimWrapper`` (GPU); else fp32.
        compile (bool): mmengine's ``compile=True`` (``torch.compile`` of ``train_step``), the data
            preprocessor and the optimizer step kept eager (:class:`EagerAroundModel`).
        optimizer (str): AdamW implementation, see :data:`.step.OPTIMIZER_IMPLS`.
        work_dir (str): parent of each run's work_dir (removed after the run).
        seed (int): the runs' random seed.
    """

    data_root: str
    batch_size: int = 8
    workers: int = 2
    epochs: int = 3
    refresh_start: int = 1
    refresh_batch_size: Optional[int] = None
    arch: str = 'b'
    img_size: int = 224
    tiny_decoder: bool = False
    amp: bool = False
    compile: bool = False
    optimizer: str = 'fused'
    work_dir: str = 'work_dirs/benchmark_e2e'
    seed: int = 0


def set_pipeline_size(pipeline: list, img_size: int) -> None:
    """Make the crop / resize transforms of ``pipeline`` output ``img_size`` pixels."""
    for t in pipeline:
        if 'scale' in t:
            t['scale'] = img_size if isinstance(t['scale'], int) else (img_size, img_size)


def schedule_of(cfg) -> dict:
    """The config's own schedule: epochs, and the refresh hook's start and interval (None if none)."""
    from famt_mm.engine.checks import resolve_epochs

    hooks = [h for h in cfg.get('custom_hooks', []) if h.get('type') == REFRESH_HOOK]
    epochs = cfg.train_cfg.max_epochs
    return dict(
        max_epochs=epochs,
        refresh_start=resolve_epochs(hooks[0].get('start_epoch', 0.1), epochs, 'start_epoch', 0)
        if hooks
        else None,
        refresh_interval=resolve_epochs(hooks[0].get('interval', 0.1), epochs, 'interval', 1)
        if hooks
        else None,
    )


def prepare_cfg(method: Method, opts: E2EOptions, tag: str):
    """``method``'s config set up for the run: the folder, batch, workers, epochs, refresh, device
    options and size; returns (config, the config's own schedule)."""
    cfg = load_config(method)
    schedule = schedule_of(cfg)
    loader = cfg.train_dataloader
    pipeline = copy.deepcopy(loader.dataset.pipeline)
    set_pipeline_size(pipeline, opts.img_size)
    # the user's (or the generated) folder in place of ImageNet's, with the config's own pipeline
    loader.dataset = dict(
        type='CustomDataset',
        data_root=opts.data_root,
        data_prefix='',
        ann_file='',
        with_label=False,
        pipeline=pipeline,
    )
    loader.batch_size = opts.batch_size
    loader.num_workers = opts.workers
    loader.persistent_workers = bool(opts.workers and loader.get('persistent_workers', False))
    shrink_model_cfg(cfg.model, opts.arch, opts.img_size)
    if opts.tiny_decoder and 'decoder_embed_dim' in cfg.model.get('neck', {}):
        cfg.model.neck.update(TINY_DECODER)
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == REFRESH_HOOK:
            if hook.get('pipeline'):  # else derived from the (resized) training pipeline
                set_pipeline_size(hook['pipeline'], opts.img_size)
            # one refresh in the run: before epoch refresh_start, none after it
            hook.update(start_epoch=opts.refresh_start, interval=opts.epochs)
            if opts.refresh_batch_size:
                hook['batch_size'] = opts.refresh_batch_size
    cfg.optim_wrapper = configure_optim_wrapper(cfg.optim_wrapper.to_dict(), opts.amp, opts.optimizer)
    cfg.train_cfg.max_epochs = opts.epochs
    cfg.pop('val_dataloader', None), cfg.pop('val_cfg', None), cfg.pop('val_evaluator', None)
    cfg.compile = bool(opts.compile)
    cfg.randomness = dict(seed=opts.seed)
    cfg.work_dir = osp.join(opts.work_dir, tag)
    cfg.experiment_name = f'{tag}_{uuid.uuid4().hex[:8]}'  # two runners in one process stay apart
    cfg.log_level = 'WARNING'
    cfg.launcher = 'none'
    return cfg, schedule


class EagerAroundModel(Hook):
    """Runs :func:`.measure.eager_around_model` once the Runner has built the optimizer wrapper
    (``runner.train()`` builds it, then compiles ``train_step`` lazily, at the first step)."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        eager_around_model(model, runner.optim_wrapper)


class EpochTimer(Hook):
    """Records epoch, iteration, data-wait, ``train_step`` and refresh times of a Runner's training.

    Registered at the lowest priority, so an epoch starts after the refresh hook and ends after the
    checkpoint hook, and an iteration ends after every other hook.
    """

    priority = 'LOWEST'

    def __init__(self):
        self.epochs: List[dict] = []
        self.refreshes: List[dict] = []
        self._device = torch.device('cpu')
        self._restore: List[Callable[[], None]] = []

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._device = next(model.parameters()).device
        self._model = model
        # runner.train() has already replaced train_step by its compiled version, if compiling
        step = model.train_step

        def timed_step(*args, **kwargs):
            start = time.perf_counter()
            out = step(*args, **kwargs)
            synchronize(self._device)
            self._step_s += time.perf_counter() - start
            return out

        model.train_step = timed_step
        self._restore.append(lambda: setattr(model, 'train_step', step))
        for hook in runner.hooks:
            if type(hook).__name__ == REFRESH_HOOK:
                self._wrap_refresh(hook, runner)

    def _wrap_refresh(self, hook, runner) -> None:
        refresh = hook.refresh

        def timed_refresh(run):
            synchronize(self._device)
            start = time.perf_counter()
            refresh(run)
            synchronize(self._device)
            seconds = time.perf_counter() - start
            maps = self._model.data_preprocessor.importance_cache.maps
            self.refreshes.append(
                dict(
                    epoch=run.epoch,
                    seconds=seconds,
                    images=len(run.train_dataloader.dataset),
                    images_per_s=len(run.train_dataloader.dataset) / max(seconds, 1e-9),
                    maps_finite=bool(maps is not None and torch.isfinite(maps.float()).all()),
                )
            )

        hook.refresh = timed_refresh
        self._restore.append(lambda: delattr(hook, 'refresh'))

    def after_train(self, runner) -> None:
        for restore in self._restore:
            restore()
        self._restore = []

    def before_train_epoch(self, runner) -> None:
        preprocessor = self._model.data_preprocessor
        generator = getattr(preprocessor, 'mask_generator', None)
        self._guided = bool(
            generator is not None
            and generator.needs_importance
            and preprocessor.importance_cache.maps is not None
        )
        self._images = self._data_s = self._step_s = self._iter_s = 0.0
        self._iters = 0
        self._losses: List[float] = []
        synchronize(self._device)
        self._epoch_start = self._last = time.perf_counter()

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._data_s += time.perf_counter() - self._last

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        now = time.perf_counter()
        self._iter_s += now - self._last
        self._last = now
        self._iters += 1
        if isinstance(data_batch, dict) and 'inputs' in data_batch:
            self._images += len(data_batch['inputs'])
        if outputs and 'loss' in outputs:
            self._losses.append(float(outputs['loss'].detach()))

    def after_train_epoch(self, runner) -> None:
        synchronize(self._device)
        self.epochs.append(
            dict(
                epoch=runner.epoch,
                epoch_s=time.perf_counter() - self._epoch_start,
                iters=self._iters,
                images=int(self._images),
                data_s=self._data_s,
                step_s=self._step_s,
                iter_s=self._iter_s,
                guided=self._guided,
                loss_finite=all(map(lambda v: v == v and abs(v) != float('inf'), self._losses)),
                last_loss=self._losses[-1] if self._losses else None,
            )
        )


def run_method(method: Method, opts: E2EOptions, tag: str, log: Callable[[str], None]) -> dict:
    """Train ``method`` as set up by ``opts``; its per-epoch and refresh records and the timings."""
    from mmpretrain.registry import RUNNERS  # the config's runner_type (FAMTRunner), as tools/train.py

    cfg, schedule = prepare_cfg(method, opts, tag)
    start = time.perf_counter()
    runner = RUNNERS.build(cfg)
    if opts.compile:
        runner.register_hook(EagerAroundModel())
    timer = EpochTimer()
    runner.register_hook(timer)
    build_s = time.perf_counter() - start
    log(f'  {method.name}: {opts.epochs} epochs of {len(runner.train_dataloader)} iterations')
    start = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - start
    for e in timer.epochs:
        log(
            f'    epoch {e["epoch"]}: {e["epoch_s"]:.2f} s, waited for data {e["data_s"]:.2f} s, '
            f'train_step {e["step_s"]:.2f} s{" (guided)" if e["guided"] else ""}'
        )
    for r in timer.refreshes:
        log(f'    refresh before epoch {r["epoch"]}: {r["seconds"]:.2f} s ({r["images_per_s"]:.1f} images/s)')
    del runner
    gc.collect()
    shutil.rmtree(cfg.work_dir, ignore_errors=True)  # checkpoints of a benchmark are not kept
    return dict(
        config=method.config,
        cfg_options=method.cfg_options,
        schedule=schedule,
        build_s=build_s,
        train_s=train_s,
        epochs=timer.epochs,
        refreshes=timer.refreshes,
    )


def summarise(run: dict, first_epoch: int) -> dict:
    """Figures of one method over its epochs from ``first_epoch`` on (the refresh's epoch)."""
    measured = [e for e in run['epochs'] if e['epoch'] >= first_epoch]
    if not measured:
        raise ValueError(f'no epoch >= {first_epoch} was trained')
    total = {k: sum(e[k] for e in measured) for k in ('images', 'data_s', 'step_s', 'iter_s')}
    busy = total['iter_s'] - total['data_s']  # step + hooks: what the model side needs
    return dict(
        epochs=[e['epoch'] for e in measured],
        median_epoch_s=statistics.median(e['epoch_s'] for e in measured),
        images_per_s=total['images'] / total['iter_s'],
        data_share=total['data_s'] / total['iter_s'],
        step_s_per_iter=total['step_s'] / sum(e['iters'] for e in measured),
        model_images_per_s=total['images'] / max(busy, 1e-9),
        hooks_share=max(0.0, busy - total['step_s']) / total['iter_s'],
        epoch_overhead_s=statistics.median(e['epoch_s'] - e['iter_s'] for e in measured),
        guided=all(e['guided'] for e in measured),
        loss_finite=all(e['loss_finite'] for e in run['epochs']),
    )


def _num_refreshes(schedule: dict) -> int:
    start, interval = schedule['refresh_start'], schedule['refresh_interval']
    if start is None:
        return 0
    return len(range(start, schedule['max_epochs'], interval))


def compare_e2e(
    base_name: str, famt_name: str, runs: Dict[str, dict], loaders: Dict[str, dict], opts
) -> dict:
    """The pair's figures, ratios and loader verdicts: per method the :func:`summarise` figures, the
    FAMT / baseline ratios, the refresh's share of a run at the config's interval, the whole
    schedule's ratio, and whether the loader set the pace (waited for data more than
    :data:`PACE_SHARE` of the time) and how many workers keep up."""
    first = opts.refresh_start
    summary = {name: summarise(run, first) for name, run in runs.items()}
    base, famt = summary[base_name], summary[famt_name]
    refreshes = runs[famt_name]['refreshes']
    if not refreshes:
        raise RuntimeError(f'{famt_name} ran no refresh: is its refresh hook configured?')
    refresh_s = refreshes[0]['seconds']
    schedule = runs[famt_name]['schedule']
    interval = schedule['refresh_interval']
    # per image, so that a small folder's per-epoch costs (loader start, checkpoint) do not count:
    # on a full-size data set they vanish against the iterations; the refresh keeps its own
    t_base, t_famt = 1 / base['images_per_s'], 1 / famt['images_per_s']
    t_refresh = refresh_s / refreshes[0]['images']
    # one refresh per `interval` guided epochs, at the config's schedule
    refresh_share = t_refresh / (t_refresh + interval * t_famt)
    warm, total = schedule['refresh_start'], schedule['max_epochs']
    schedule_ratio = (warm * t_base + (total - warm) * t_famt + _num_refreshes(schedule) * t_refresh) / (
        total * t_base
    )
    pace = {}
    for name, s in summary.items():
        per_worker = loaders[name]['images_per_s']
        pace[name] = dict(
            loader_paces=s['data_share'] > PACE_SHARE,
            workers_used=opts.workers,
            worker_images_per_s=per_worker,
            workers_needed=workers_needed(s['model_images_per_s'], per_worker),
        )
    return dict(
        baseline=base_name,
        famt=famt_name,
        methods=runs,
        summary=summary,
        loader=loaders,
        pace=pace,
        step_ratio=famt['step_s_per_iter'] / base['step_s_per_iter'],
        epoch_ratio=famt['median_epoch_s'] / base['median_epoch_s'],
        throughput_ratio=base['images_per_s'] / famt['images_per_s'],
        refresh=dict(
            seconds=refresh_s,
            images_per_s=refreshes[0]['images_per_s'],
            maps_finite=refreshes[0]['maps_finite'],
            config_interval=interval,
            share_at_config_interval=refresh_share,
        ),
        schedule_ratio=schedule_ratio,
        config_schedule=schedule,
    )


def loader_figures(method: Method, opts: E2EOptions, num_images: int) -> dict:
    """Images/s of one loader worker running ``method``'s training pipeline on ``opts.data_root``."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS

    import famt_mm  # noqa: F401  (registers the FAMT transforms)

    cfg, _ = prepare_cfg(method, opts, 'loader')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    return dict(
        pipeline=[t['type'] for t in cfg.train_dataloader.dataset.pipeline],
        **pipeline_throughput(dataset, num_images, opts.batch_size),
    )


def run_pair_e2e(pair: tuple, opts: E2EOptions, loader_images: int, log: Callable[[str], None]) -> dict:
    """Loader throughput, then training runs of both methods of ``pair``; the comparison."""
    runs, loaders = {}, {}
    for method in pair:
        log(f'  {method.name}: training pipeline alone, {loader_images} images, one worker')
        loaders[method.name] = loader_figures(method, opts, loader_images)
        log(f'    {loaders[method.name]["images_per_s"]:.1f} images/s per worker')
    for side, method in zip(('baseline', 'famt'), pair):
        runs[method.name] = run_method(method, opts, side, log)
    return compare_e2e(pair[0].name, pair[1].name, runs, loaders, opts)


#: figures of a pair's result a tool may bound (the bounds come from its command line; docs/speed.md
#: names the ones the project uses)
LIMITS = (
    Limit('max-epoch-ratio', 'FAMT / baseline median epoch time', lambda r: r['epoch_ratio']),
    Limit(
        'max-refresh-share',
        "the refresh's share of the FAMT run at the config's interval",
        lambda r: r['refresh']['share_at_config_interval'],
    ),
)
