"""Accuracy for time on the embedded digits demo: plain MAE against FAMT-MAE, equal epochs, seeds.

The library of ``tools/demo_accuracy_for_time.py``:

    python tools/demo_accuracy_for_time.py [--seeds 0 1 2] [--epochs N] [--work-dir DIR]
        [--out accuracy_for_time.json]

Both methods train the demo config
(``configs/famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py``: the same tiny ViT, data,
optimiser and number of epochs). Plain MAE is that config with MAE's random masking
(``RandomMaskGenerator``, mask 0.75, no throwing, no refresh hook); FAMT-MAE is the config as it is
(warm-up, refreshes, guided masking 0.45 and throwing 0.40). The runs take turns (seed by seed, the
order flipped every seed) in this one process. Per run it records the linear probe's held-out top-1
(the config's ``LinearProbeHook``) and the pretraining wall time, from the start of the first
training epoch to the end of the last one (refresh passes included; probes, set-up and the final
checkpoint excluded). It prints a markdown table of mean, standard deviation and range per method
and writes all runs to ``--out``.
"""
import os.path as osp
import statistics
import time
import uuid
from typing import Dict, List

from ..utils.configs import find_config

DEMO_CONFIG = 'famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py'


def plain_mae(cfg) -> None:
    """The demo config with MAE's masking: random 0.75, nothing thrown, no importance refresh."""
    cfg.data_preprocessor.mask_generator = dict(type='RandomMaskGenerator', mask_ratio=0.75,
                                                throw_ratio=0.0)
    cfg.custom_hooks = [h for h in cfg.custom_hooks if h['type'] != 'FAMTRefreshHook']


def famt_mae(cfg) -> None:
    """The demo config as it is."""


#: method name -> how it changes the demo config
METHODS = {'MAE (random 0.75)': plain_mae, 'FAMT-MAE (0.45 / 0.40)': famt_mae}


def set_epochs(cfg, epochs: int) -> None:
    """Change the schedule's length: the last lr phase ends at ``epochs``, phases past it go.

    The refresh schedule stays the config's (runs shorter than its warm-up never refresh).
    """
    old = cfg.train_cfg.max_epochs
    cfg.train_cfg.max_epochs = epochs
    kept = []
    for scheduler in cfg.param_scheduler:
        begin = scheduler.get('begin', 0)
        if begin >= epochs:
            continue
        if scheduler.get('end') == old or scheduler.get('end', 0) > epochs:
            scheduler['end'] = epochs
            if 'T_max' in scheduler:
                scheduler['T_max'] = epochs - begin
        kept.append(scheduler)
    cfg.param_scheduler = kept


def run_once(method: str, seed: int, args, work_dir: str) -> dict:
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from famt_mm.engine import LinearProbeHook

    cfg = Config.fromfile(find_config(args.config))
    METHODS[method](cfg)
    if args.epochs is not None:
        set_epochs(cfg, args.epochs)
    if args.train_images is not None:
        cfg.train_dataloader.dataset.indices = args.train_images
    cfg.work_dir = work_dir
    cfg.experiment_name = f'{osp.basename(work_dir)}_{uuid.uuid4().hex[:6]}'
    cfg.randomness = dict(seed=seed, diff_rank_seed=True)
    cfg.log_level = args.log_level

    class WallClock(Hook):
        """From the first training epoch's start to the last one's end (refreshes included)."""
        priority = 'VERY_HIGH'  # starts before the refresh hook's scoring of that epoch
        start = end = None

        def before_train_epoch(self, runner):
            if self.start is None:
                self.start = time.perf_counter()

        def after_train_epoch(self, runner):
            self.end = time.perf_counter()

    runner = Runner.from_cfg(cfg)
    clock = WallClock()
    runner.register_hook(clock)
    runner.train()
    probe = next(h for h in runner.hooks if isinstance(h, LinearProbeHook))
    return dict(method=method, seed=seed, epochs=runner.epoch, top1=probe.results['top1'],
                init_top1=probe.results.get('init_top1'), num_test=probe.results['num_test'],
                pretrain_s=clock.end - clock.start, work_dir=work_dir)


def _stats(values: List[float]) -> dict:
    return dict(mean=statistics.mean(values),
                std=statistics.stdev(values) if len(values) > 1 else 0.0,
                min=min(values), max=max(values), n=len(values))


def summarise(runs: List[dict]) -> Dict[str, dict]:
    out = {}
    for method in dict.fromkeys(r['method'] for r in runs):
        mine = [r for r in runs if r['method'] == method]
        out[method] = dict(top1=_stats([r['top1'] for r in mine]),
                           init_top1=_stats([r['init_top1'] for r in mine]),
                           pretrain_s=_stats([r['pretrain_s'] for r in mine]),
                           epochs=mine[0]['epochs'], seeds=[r['seed'] for r in mine])
    return out


def markdown_table(summary: Dict[str, dict]) -> str:
    lines = ['| method | epochs | seeds | probe top-1 % (mean ± std) | range | probe at init % | '
             'pretraining wall time s (mean ± std) |',
             '|---|---:|---|---:|---:|---:|---:|']
    for method, s in summary.items():
        t, w, i = s['top1'], s['pretrain_s'], s['init_top1']
        lines.append(f'| {method} | {s["epochs"]} | {", ".join(map(str, s["seeds"]))} | '
                     f'{t["mean"]:.2f} ± {t["std"]:.2f} | {t["min"]:.2f}-{t["max"]:.2f} | '
                     f'{i["mean"]:.2f} | {w["mean"]:.0f} ± {w["std"]:.0f} |')
    return '\n'.join(lines)
