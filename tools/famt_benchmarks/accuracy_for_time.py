"""Accuracy for time on the embedded digits demo: variants of the mask generator, equal epochs, seeds.

The library of ``tools/demo_accuracy_for_time.py``:

    python tools/demo_accuracy_for_time.py [--variants mae famt | ablation | spark | arch | NAME ...]
        [--variant NAME=key=value,...] [--seeds 0 1 2] [--epochs N]
        [--refresh-start S] [--refresh-interval I] [--work-dir DIR] [--out accuracy_for_time.json]

Every variant trains the demo config
(``configs/famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py``: the same tiny ViT, data,
optimiser, number of epochs and refresh schedule); a variant only changes the config's mask
generator (:data:`VARIANTS`, :func:`variant_generator`). Plain MAE is MAE's random masking
(``FAMTRandomMaskGenerator``, mask 0.75, no throwing, no refresh hook); FAMT-MAE is the config as it is
(warm-up, refreshes, guided masking 0.45 and throwing 0.40). The ``spark`` group trains its own
config instead (:data:`SPARK_DEMO_CONFIG`, SparK on a tiny sparse ConvNeXt, the same digits):
FAMT's frequency-only masking against random masking at SparK's ratio. The ``arch`` group keeps FAMT-MAE as
configured and changes the encoder: the demo's ViT, X-ViT (:data:`XVIT_DEMO_CONFIG`) and the ViT with
trainable matrix activations in its FFNs (:data:`MATACT_DEMO_CONFIG`). The runs take turns (seed by seed, the
order reversed every other seed) in this one process. Per run it records the linear probe's
held-out top-1 (the config's ``FAMTLinearProbeHook``) and the pretraining wall time, from the start of
the first training epoch to the end of the last one (refresh passes included; probes, set-up and
the final checkpoint excluded). It prints a markdown table of mean, standard deviation and range
per variant and writes all runs to ``--out``.
"""
import ast
import inspect
import os.path as osp
import statistics
import time
import uuid
from typing import Dict, List, NamedTuple, Optional, Sequence

from famt_mm.utils.configs import find_config

DEMO_CONFIG = 'famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py'
#: the CNN demo: SparK on a tiny sparse ConvNeXt, the same digits at 32 px in 8-px masking units
SPARK_DEMO_CONFIG = 'famt/pretrain/famt-spark_sparse-convnext-mini-p8_1xb64-60e_digits.py'
#: the demo with an X-ViT encoder (softmax-free attention), everything else the demo's
XVIT_DEMO_CONFIG = 'famt/pretrain/famt-mae_xvit-tiny-p4_1xb64-60e_digits.py'
#: the demo with trainable matrix activations in the encoder's FFNs, everything else the demo's
MATACT_DEMO_CONFIG = 'famt/pretrain/famt-mae_vit-tiny-matact-p4_1xb64-60e_digits.py'


class Variant(NamedTuple):
    """A named change of a config's mask generator.

    Args:
        label (str): the row name in tables and the caption in figures.
        generator (dict): overrides of the config's ``mask_generator``, see
            :func:`variant_generator`; empty for the config as it is.
        config (str, optional): the config it trains, relative to famt_mm's config root (e.g.
            :data:`SPARK_DEMO_CONFIG`); ``None`` for the tool's (the ViT demo). Defaults to None.
        cfg_options (dict, optional): other settings of that config, as ``--cfg-options`` gives them
            (``Config.merge_from_dict``), e.g. ``{'model.backbone.score_attention': 'abs'}``.
            Defaults to None.
    """
    label: str
    generator: dict
    config: Optional[str] = None
    cfg_options: Optional[dict] = None


#: variant name -> label and mask-generator overrides (the demo's generator is FAMT 0.45 / 0.40,
#: warm-up 0.75); every switch of ``docs/method.md`` section 6 has one
VARIANTS: Dict[str, Variant] = {
    'mae': Variant('MAE (random 0.75)',
                   dict(type='FAMTRandomMaskGenerator', mask_ratio=0.75, throw_ratio=0.0)),
    'famt': Variant('FAMT-MAE (0.45 / 0.40)', {}),
    'amt': Variant('AMT (0.45 / 0.40)', dict(type='AMTMaskGenerator')),
    'famt-nothrow': Variant('FAMT, no throwing (0.45 / 0)',
                            dict(throw_mode='off', throw_ratio=0.0)),
    'famt-frequency': Variant('FAMT, frequency only', dict(weight_source='frequency')),
    'famt-attention': Variant('FAMT, attention only', dict(weight_source='attention')),
    'famt-lowest': Variant('FAMT, throwing the lowest', dict(throw_mode='lowest')),
    'famt-cls': Variant('FAMT, cls term only', dict(attention_terms=('cls', ))),
    'famt-img': Variant('FAMT, img term only', dict(attention_terms=('img', ))),
    'famt-symmetric': Variant('FAMT, symmetric kernel',
                              dict(frequency_filter='lowpass_symmetric')),
    'famt-nofilter': Variant('FAMT, no frequency filter', dict(frequency_filter='none')),
    # SparK on a CNN (its own config): FAMT's frequency-only guided masking against SparK's random
    # masking at the same ratio, both through the preprocessor's plan, nothing thrown
    'spark-random': Variant('SparK ConvNeXt (random 0.6)',
                            dict(type='FAMTRandomMaskGenerator', mask_ratio=0.6, throw_ratio=0.0),
                            SPARK_DEMO_CONFIG),
    'spark-famt': Variant('FAMT-SparK ConvNeXt (frequency, 0.6)', {}, SPARK_DEMO_CONFIG),
    # FAMT-MAE as configured on other encoders (their own configs): the demo's ViT is 'famt'
    'famt-xvit': Variant('FAMT-MAE X-ViT (0.45 / 0.40)', {}, XVIT_DEMO_CONFIG),
    'famt-matact': Variant('FAMT-MAE ViT, matrix activations (0.45 / 0.40)', {}, MATACT_DEMO_CONFIG),
    # how the refresh reads X-ViT's signed attention (docs/method.md section 9), each reading named
    **{f'famt-xvit-{rows}': Variant(f'FAMT-MAE X-ViT, attention read as {rows}', {}, XVIT_DEMO_CONFIG,
                                    {'model.backbone.score_attention': rows})
       for rows in ('clip', 'shift', 'abs')},
}
#: names that stand for a list of variants on the command line
VARIANT_GROUPS: Dict[str, List[str]] = {
    'default': ['mae', 'famt'],
    'ablation': ['mae', 'amt', 'famt', 'famt-nothrow', 'famt-frequency', 'famt-lowest'],
    'spark': ['spark-random', 'spark-famt'],
    'arch': ['famt', 'famt-xvit', 'famt-matact'],
    'xvit-rows': ['famt-xvit-clip', 'famt-xvit-shift', 'famt-xvit-abs'],
}


def resolve_variants(names: Sequence[str], known: Dict[str, Variant] = VARIANTS) -> List[str]:
    """Variant names with groups expanded, in order, each once; ValueError naming the known ones."""
    out = []
    for name in names:
        expanded = VARIANT_GROUPS.get(name, [name])
        for item in expanded:
            if item not in known:
                raise ValueError(f'unknown variant {item!r}; known variants: {", ".join(known)}; '
                                 f'groups: {", ".join(VARIANT_GROUPS)}')
            if item not in out:
                out.append(item)
    return out


def parse_value(text: str):
    """A Python literal (number, tuple, ...) if ``text`` is one, else the text as a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def split_top_level(text: str, sep: str = ',') -> List[str]:
    """``text`` split at ``sep`` outside brackets, so ``a=1,b=('cls', 'img')`` gives two items."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in '([{') - (char in ')]}')
        if char == sep and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def parse_overrides(items: Sequence[str]) -> dict:
    """``['key=value', ...]`` as a dict of literals; ValueError on an item without ``=``."""
    out = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or not key.strip():
            raise ValueError(f'a generator option must look like key=value, got {item!r}')
        out[key.strip()] = parse_value(value.strip())
    return out


def parse_variant(text: str) -> tuple:
    """``'NAME=key=value,key=value'`` (the ``--variant`` option) as ``(NAME, Variant)``."""
    name, sep, options = text.partition('=')
    if not sep or not name.strip() or not options.strip():
        raise ValueError(f'--variant must look like NAME=key=value,key=value (e.g. '
                         f'famt-sigma=sigma_ratio=0.15), got {text!r}')
    overrides = parse_overrides(split_top_level(options))
    label = ', '.join(f'{k}={v}' for k, v in overrides.items())
    return name.strip(), Variant(f'{name.strip()} ({label})', overrides)


def variant_generator(base: dict, overrides: dict) -> dict:
    """The mask-generator config of a variant: ``base`` (the config's) updated by ``overrides``.

    A ``type`` other than the base's keeps those base settings that the new type accepts (the
    ratios, the rounding, ...) and drops the rest, so that e.g. ``type='AMTMaskGenerator'`` keeps a
    SimMIM config's ratios; settings named in ``overrides`` are always passed on, so one the type
    does not take is the generator's own error.
    """
    from mmpretrain.registry import MODELS
    new_type = overrides.get('type', base['type'])
    out = {k: v for k, v in base.items()}
    if new_type != base['type']:
        cls = MODELS.get(new_type)
        if cls is None:
            raise ValueError(f'unknown mask generator type {new_type!r}')
        accepted = set(inspect.signature(cls.__init__).parameters) - {'self'}
        out = {k: v for k, v in base.items() if k in accepted}
    out.update(overrides)
    out['type'] = new_type
    return out


def build_generator(generator: dict):
    """The generator object of a config dict (its constructor checks the settings)."""
    from mmpretrain.registry import MODELS

    import famt_mm.models  # noqa: F401  (registers the generators)
    return MODELS.build(dict(generator))


def generator_cfg(cfg) -> dict:
    """The preprocessor dict holding the config's mask generator: the model's if it has one (as
    the Runner builds it), else the top-level ``data_preprocessor``."""
    for holder in (cfg.get('model', {}).get('data_preprocessor'), cfg.get('data_preprocessor')):
        if holder and 'mask_generator' in holder:
            return holder
    raise ValueError('the config has no data_preprocessor.mask_generator to vary')


def apply_variant(cfg, variant: Variant) -> None:
    """Change ``cfg``'s mask generator (and the settings of ``cfg_options``) to the variant's; a
    generator that needs no importance maps (random masking) also loses the ``FAMTRefreshHook``,
    whose scoring would be wasted."""
    if variant.cfg_options:
        cfg.merge_from_dict(variant.cfg_options)
    holder = generator_cfg(cfg)
    base = holder['mask_generator']
    base = base.to_dict() if hasattr(base, 'to_dict') else dict(base)
    generator = variant_generator(base, variant.generator)
    holder['mask_generator'] = generator
    if not build_generator(generator).needs_importance:
        cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                            if h['type'] != 'FAMTRefreshHook']


def plain_mae(cfg) -> None:
    """The demo config with MAE's masking: random 0.75, nothing thrown, no importance refresh."""
    apply_variant(cfg, VARIANTS['mae'])


def famt_mae(cfg) -> None:
    """The demo config as it is."""
    apply_variant(cfg, VARIANTS['famt'])


def set_epochs(cfg, epochs: int) -> None:
    """Change the schedule's length: the last lr phase ends at ``epochs``, phases past it go.

    The refresh schedule stays the config's (runs shorter than its warm-up never refresh); see
    :func:`set_refresh`.
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


def set_refresh(cfg, start_epoch: Optional[int] = None, interval: Optional[int] = None) -> None:
    """Set the ``FAMTRefreshHook``'s first refresh epoch and interval (``None`` keeps a value)."""
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] == 'FAMTRefreshHook':
            if start_epoch is not None:
                hook['start_epoch'] = start_epoch
            if interval is not None:
                hook['interval'] = interval


def refresh_schedule(cfg) -> Optional[dict]:
    """The refresh hook's ``start_epoch`` and ``interval``, or ``None`` without one."""
    from famt_mm.engine.checks import resolve_epochs
    epochs = cfg.train_cfg.max_epochs
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] == 'FAMTRefreshHook':
            return dict(start_epoch=resolve_epochs(hook.get('start_epoch', 0.1), epochs, 'start_epoch', 0),
                        interval=resolve_epochs(hook.get('interval', 0.1), epochs, 'interval', 1))
    return None


def run_once(name: str, variant: Variant, seed: int, args, work_dir: str) -> dict:
    """Pretrain the variant once with ``seed``; its probe's top-1 and the pretraining wall time."""
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmpretrain.registry import RUNNERS  # the config's runner_type (FAMTRunner), as tools/train.py

    from famt_mm.engine import FAMTLinearProbeHook

    cfg = Config.fromfile(find_config(variant.config or args.config))
    apply_variant(cfg, variant)
    if args.epochs is not None:
        set_epochs(cfg, args.epochs)
    set_refresh(cfg, args.refresh_start, args.refresh_interval)
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

    runner = RUNNERS.build(cfg)
    clock = WallClock()
    runner.register_hook(clock)
    runner.train()
    probe = next(h for h in runner.hooks if isinstance(h, FAMTLinearProbeHook))
    return dict(variant=name, method=variant.label, seed=seed, epochs=runner.epoch,
                generator=repr(runner.model.data_preprocessor.mask_generator),
                refresh=refresh_schedule(cfg), top1=probe.results['top1'],
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
