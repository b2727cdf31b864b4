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
import json
import os.path as osp
import statistics
import time
import uuid
from typing import Dict, List, NamedTuple, Optional, Sequence, Union

from famt_mm.utils.configs import find_config

DEMO_CONFIG = 'famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py'
#: the CNN demo: SparK on a tiny sparse ConvNeXt, the same digits at 32 px in 8-px masking units
SPARK_DEMO_CONFIG = 'famt/pretrain/famt-spark_sparse-convnext-mini-p8_1xb64-60e_digits.py'
#: the demo with an X-ViT encoder (softmax-free attention), everything else the demo's
XVIT_DEMO_CONFIG = 'famt/pretrain/famt-mae_xvit-tiny-p4_1xb64-60e_digits.py'
#: the demo with trainable matrix activations in the encoder's FFNs, everything else the demo's
MATACT_DEMO_CONFIG = 'famt/pretrain/famt-mae_vit-tiny-matact-p4_1xb64-60e_digits.py'
#: the cluttered-digits benchmark: a tiny ViT on handwritten digits over clutter, 48 px in 8-px patches
CLUTTERED_CONFIG = 'famt/pretrain/famt-mae_vit-tiny-p8_1xb256-20e_cluttered-digits.py'
#: the CNN demo's SparK on the cluttered-digits benchmark's data, schedule and evaluation
SPARK_CLUTTERED_CONFIG = 'famt/pretrain/famt-spark_sparse-convnext-mini-p8_1xb256-20e_cluttered-digits.py'
#: SparK's config per ``--benchmark``
SPARK_CONFIGS = {'digits': SPARK_DEMO_CONFIG, 'cluttered': SPARK_CLUTTERED_CONFIG}
#: the hooks that fill the importance cache on a schedule (FAMT's scoring, the object oracle)
REFRESHING_HOOKS = ('FAMTRefreshHook', 'FAMTObjectOracleHook')
#: ``--benchmark`` name -> config
BENCHMARKS = {'digits': DEMO_CONFIG, 'cluttered': CLUTTERED_CONFIG}


class Variant(NamedTuple):
    """A named change of a config's mask generator.

    Args:
        label (str): the row name in tables and the caption in figures.
        generator (dict): overrides of the config's ``mask_generator``, see
            :func:`variant_generator`; empty for the config as it is.
        config (str or dict, optional): the config it trains, relative to famt_mm's config root
            (e.g. :data:`XVIT_DEMO_CONFIG`), or one per ``--benchmark`` (e.g. :data:`SPARK_CONFIGS`);
            ``None`` for the tool's (the benchmark's ViT, or ``--config``). Defaults to None.
        cfg_options (dict, optional): other settings of that config, as ``--cfg-options`` gives them
            (``Config.merge_from_dict``), e.g. ``{'model.backbone.score_attention': 'abs'}``.
            Defaults to None.
        oracle (bool): fill the importance maps from the dataset's true object masks
            (``FAMTObjectOracleHook`` in place of ``FAMTRefreshHook``, same schedule): an oracle, not FAMT.
            Needs a dataset with object masks (the cluttered benchmark). Defaults to False.
        pretrain (bool): False evaluates the untrained encoder (no pretraining epoch). Defaults to
            True.
    """

    label: str
    generator: dict
    config: Union[None, str, Dict[str, str]] = None
    cfg_options: Optional[dict] = None
    oracle: bool = False
    pretrain: bool = True


#: variant name -> label and mask-generator overrides (the demo's generator is FAMT 0.45 / 0.40,
#: warm-up 0.75); every switch of ``docs/method.md`` section 6 has one
VARIANTS: Dict[str, Variant] = {
    'mae': Variant(
        'MAE (random 0.75)', dict(type='FAMTRandomMaskGenerator', mask_ratio=0.75, throw_ratio=0.0)
    ),
    'famt': Variant('FAMT-MAE (0.45 / 0.40)', {}),
    'amt': Variant('AMT (0.45 / 0.40)', dict(type='AMTMaskGenerator')),
    'famt-nothrow': Variant('FAMT, no throwing (0.45 / 0)', dict(throw_mode='off', throw_ratio=0.0)),
    'famt-frequency': Variant('FAMT, frequency only', dict(weight_source='frequency')),
    'famt-attention': Variant('FAMT, attention only', dict(weight_source='attention')),
    'famt-lowest': Variant('FAMT, throwing the lowest', dict(throw_mode='lowest')),
    'famt-cls': Variant('FAMT, cls term only', dict(attention_terms=('cls',))),
    'famt-img': Variant('FAMT, img term only', dict(attention_terms=('img',))),
    'famt-symmetric': Variant('FAMT, symmetric kernel', dict(frequency_filter='lowpass_symmetric')),
    'famt-nofilter': Variant('FAMT, no frequency filter', dict(frequency_filter='none')),
    # SparK on a CNN (its own config): FAMT's frequency-only guided masking against SparK's random
    # masking at the same ratio, both through the preprocessor's plan, nothing thrown
    'spark-random': Variant(
        'SparK ConvNeXt (random 0.6)',
        dict(type='FAMTRandomMaskGenerator', mask_ratio=0.6, throw_ratio=0.0),
        SPARK_CONFIGS,
    ),
    'spark-famt': Variant('FAMT-SparK ConvNeXt (frequency, 0.6)', {}, SPARK_CONFIGS),
    # the CNN's reference on the cluttered benchmark (on the digits its probe runs before training)
    'spark-untrained': Variant(
        'untrained sparse ConvNeXt',
        dict(type='FAMTRandomMaskGenerator', mask_ratio=0.6, throw_ratio=0.0),
        SPARK_CONFIGS,
        pretrain=False,
    ),
    # FAMT-MAE as configured on other encoders (their own configs): the demo's ViT is 'famt'
    'famt-xvit': Variant('FAMT-MAE X-ViT (0.45 / 0.40)', {}, XVIT_DEMO_CONFIG),
    'famt-matact': Variant('FAMT-MAE ViT, matrix activations (0.45 / 0.40)', {}, MATACT_DEMO_CONFIG),
    # how the refresh reads X-ViT's signed attention (docs/method.md section 9), each reading named
    **{
        f'famt-xvit-{rows}': Variant(
            f'FAMT-MAE X-ViT, attention read as {rows}',
            {},
            XVIT_DEMO_CONFIG,
            {'model.backbone.score_attention': rows},
        )
        for rows in ('clip', 'shift', 'abs')
    },
    # the cluttered benchmark's controls: the ground-truth digit mask as the map (oracles), FAMT's
    # counts drawn at random (the map's effect apart from the counts'), and no pretraining at all
    'oracle-mask': Variant(
        'ORACLE map, FAMT recipe (0.45 / 0.40, middle thrown)',
        dict(type='FAMTMaskGenerator', throw_mode='middle'),
        oracle=True,
    ),
    'oracle-throw': Variant(
        'ORACLE map, lowest thrown (0.45 / 0.40)',
        dict(type='FAMTMaskGenerator', throw_mode='lowest'),
        oracle=True,
    ),
    'random-counts': Variant(
        "random at FAMT's counts (0.45 / 0.40)",
        dict(type='FAMTRandomMaskGenerator', mask_ratio=0.45, throw_ratio=0.40),
    ),
    'untrained': Variant(
        'untrained encoder',
        dict(type='FAMTRandomMaskGenerator', mask_ratio=0.75, throw_ratio=0.0),
        pretrain=False,
    ),
}
#: names that stand for a list of variants on the command line
VARIANT_GROUPS: Dict[str, List[str]] = {
    'default': ['mae', 'famt'],
    'ablation': ['mae', 'amt', 'famt', 'famt-nothrow', 'famt-frequency', 'famt-lowest'],
    'spark': ['spark-random', 'spark-famt'],
    'arch': ['famt', 'famt-xvit', 'famt-matact'],
    'xvit-rows': ['famt-xvit-clip', 'famt-xvit-shift', 'famt-xvit-abs'],
    # the cluttered benchmark (--benchmark cluttered): can the level separate, then the comparison
    'calibration': ['untrained', 'mae', 'oracle-throw'],
    'cluttered': [
        'mae',
        'amt',
        'famt',
        'famt-nothrow',
        'famt-frequency',
        'famt-lowest',
        'oracle-mask',
        'oracle-throw',
        'random-counts',
    ],
}


def resolve_variants(names: Sequence[str], known: Dict[str, Variant] = VARIANTS) -> List[str]:
    """Variant names with groups expanded, in order, each once; ValueError naming the known ones."""
    out = []
    for name in names:
        expanded = VARIANT_GROUPS.get(name, [name])
        for item in expanded:
            if item not in known:
                raise ValueError(
                    f'unknown variant {item!r}; known variants: {", ".join(known)}; '
                    f'groups: {", ".join(VARIANT_GROUPS)}'
                )
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
        raise ValueError(
            f'--variant must look like NAME=key=value,key=value (e.g. '
            f'famt-sigma=sigma_ratio=0.15), got {text!r}'
        )
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


def variant_config(variant: Variant, benchmark: Optional[str], default: str) -> str:
    """The config ``variant`` trains: its own (its one for ``benchmark`` when it has one per
    benchmark) or ``default``; ValueError naming the benchmarks it has."""
    if variant.config is None:
        return default
    if isinstance(variant.config, str):
        return variant.config
    if benchmark not in variant.config:
        raise ValueError(
            f'it trains its own config per --benchmark ({", ".join(variant.config)}); '
            f'give one of these (not --config)'
        )
    return variant.config[benchmark]


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
        cfg.custom_hooks = [h for h in cfg.get('custom_hooks', []) if h['type'] != 'FAMTRefreshHook']
    elif variant.oracle:
        if not any(h['type'] == 'FAMTRefreshHook' for h in cfg.get('custom_hooks', [])):
            raise ValueError(
                "an oracle variant takes the place of the config's FAMTRefreshHook, and the config has none"
            )
        # the same schedule, the maps from the true object masks
        cfg.custom_hooks = [
            dict(
                type='FAMTObjectOracleHook',
                start_epoch=h.get('start_epoch', 40),
                interval=h.get('interval', 40),
            )
            if h['type'] == 'FAMTRefreshHook'
            else h
            for h in cfg.get('custom_hooks', [])
        ]


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
    """Set the ``FAMTRefreshHook``'s (or an oracle's ``FAMTObjectOracleHook``'s) first refresh epoch and
    interval (``None`` keeps a value)."""
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] in REFRESHING_HOOKS:
            if start_epoch is not None:
                hook['start_epoch'] = start_epoch
            if interval is not None:
                hook['interval'] = interval


def refresh_schedule(cfg) -> Optional[dict]:
    """The refresh hook's ``start_epoch`` and ``interval``, or ``None`` without one."""
    from famt_mm.engine.checks import resolve_epochs

    epochs = cfg.train_cfg.max_epochs
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] in REFRESHING_HOOKS:
            return dict(
                start_epoch=resolve_epochs(hook.get('start_epoch', 0.1), epochs, 'start_epoch', 0),
                interval=resolve_epochs(hook.get('interval', 0.1), epochs, 'interval', 1),
            )
    return None


def cluttered_datasets(cfg) -> List[dict]:
    """Every ``FAMTClutteredDigits`` dataset dict of the config: training set and evaluation loaders."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get('type') == 'FAMTClutteredDigits':
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(cfg.get('train_dataloader'))
    walk(cfg.get('custom_hooks'))
    return found


def set_cluttered(
    cfg,
    clutter: Optional[str] = None,
    renders: Optional[int] = None,
    labels_per_class: Optional[int] = None,
    finetune_epochs: Optional[int] = None,
) -> None:
    """Set the cluttered benchmark's clutter level (all its datasets), the pretraining renders per
    digit, the labelled images per class and the fine-tune's epochs (``None`` keeps a value);
    ValueError on a config without ``FAMTClutteredDigits``."""
    if all(v is None for v in (clutter, renders, labels_per_class, finetune_epochs)):
        return
    datasets = cluttered_datasets(cfg)
    if not datasets:
        raise ValueError(
            '--clutter, --renders, --labels-per-class and --finetune-epochs set the '
            'cluttered benchmark (--benchmark cluttered); this config has no '
            'FAMTClutteredDigits dataset'
        )
    for dataset in datasets:
        if clutter is not None:
            dataset['clutter'] = clutter
        if renders is not None and dataset.get('split', 'pretrain') == 'pretrain':
            dataset['renders'] = renders
        if labels_per_class is not None and dataset.get('split') == 'train':
            dataset['labels_per_class'] = labels_per_class
    if finetune_epochs is not None:
        for hook in cfg.get('custom_hooks', []):
            if hook['type'] == 'FAMTFewLabelEvalHook':
                hook['finetune_epochs'] = finetune_epochs


def run_once(name: str, variant: Variant, seed: int, args, work_dir: str) -> dict:
    """Pretrain the variant once with ``seed``; its evaluation's top-1 and the pretraining wall time.

    The main figure ``top1`` is the config's ``FAMTFewLabelEvalHook`` fine-tune (the cluttered
    benchmark; its probes and k-NN in ``metrics``, the object capture in ``capture``) or its
    ``FAMTLinearProbeHook`` probe (the digits demo).
    """
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmpretrain.registry import RUNNERS  # the config's runner_type (FAMTRunner), as tools/train.py

    from famt_mm.engine import FAMTFewLabelEvalHook, FAMTLinearProbeHook, FAMTObjectCaptureHook

    cfg = Config.fromfile(find_config(variant_config(variant, args.benchmark, args.config)))
    apply_variant(cfg, variant)
    set_cluttered(
        cfg,
        getattr(args, 'clutter', None),
        getattr(args, 'renders', None),
        getattr(args, 'labels_per_class', None),
        getattr(args, 'finetune_epochs', None),
    )
    if not variant.pretrain:
        set_epochs(cfg, 0)
    elif args.epochs is not None:
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
    pretrain_s = 0.0 if clock.start is None else clock.end - clock.start
    run = dict(
        variant=name,
        method=variant.label,
        seed=seed,
        epochs=runner.epoch,
        generator=repr(runner.model.data_preprocessor.mask_generator),
        refresh=refresh_schedule(cfg),
        oracle=variant.oracle,
        pretrain_s=pretrain_s,
        work_dir=work_dir,
    )
    few = next((h for h in runner.hooks if isinstance(h, FAMTFewLabelEvalHook)), None)
    if few is not None:
        metrics = {k: v for k, v in few.results.items() if k.endswith('top1')}
        run.update(
            top1=metrics.get('finetune_top1', metrics.get('probe_cls_top1')),
            init_top1=None,
            num_test=few.results['num_test'],
            num_labelled=few.results['num_labelled'],
            metrics=metrics,
            clutter=cluttered_datasets(cfg)[0]['clutter'] if cluttered_datasets(cfg) else None,
        )
    else:
        probe = next(h for h in runner.hooks if isinstance(h, FAMTLinearProbeHook))
        run.update(
            top1=probe.results['top1'],
            init_top1=probe.results.get('init_top1'),
            num_test=probe.results['num_test'],
        )
    capture = next((h for h in runner.hooks if isinstance(h, FAMTObjectCaptureHook)), None)
    if capture is not None and capture.masks is not None:
        run['capture'] = capture.results()
    return run


def _stats(values: List[float]) -> dict:
    return dict(
        mean=statistics.mean(values),
        std=statistics.stdev(values) if len(values) > 1 else 0.0,
        min=min(values),
        max=max(values),
        n=len(values),
    )


def summarise(runs: List[dict]) -> Dict[str, dict]:
    out = {}
    for method in dict.fromkeys(r['method'] for r in runs):
        mine = [r for r in runs if r['method'] == method]
        inits = [r['init_top1'] for r in mine if r.get('init_top1') is not None]
        out[method] = dict(
            top1=_stats([r['top1'] for r in mine]),
            init_top1=_stats(inits) if inits else None,
            pretrain_s=_stats([r['pretrain_s'] for r in mine]),
            epochs=mine[0]['epochs'],
            seeds=[r['seed'] for r in mine],
        )
        metrics = sorted({k for r in mine for k in r.get('metrics', {})})
        if metrics:
            out[method]['metrics'] = {
                k: _stats([r['metrics'][k] for r in mine if k in r['metrics']]) for k in metrics
            }
        captures = [r['capture'] for r in mine if r.get('capture')]
        if captures:
            out[method]['capture'] = capture_summary(captures)
    return out


def capture_summary(captures: List[dict]) -> dict:
    """Mean over runs of the maps' last ROC-AUC and lift and of the plans' object shares over the
    guided epochs (all intervals but the first, which is the random warm-up when maps exist)."""
    out = {}
    last_maps = [c['maps'][-1] for c in captures if c.get('maps')]
    if last_maps:
        out['map_auc'] = _stats([m['auc'] for m in last_maps])
        out['map_lift'] = _stats([m['lift'] for m in last_maps])
    for group in ('masked', 'thrown', 'visible', 'all'):
        values = []
        for c in captures:
            plans = c.get('plans', [])
            guided = plans[1:] if c.get('maps') else plans
            weighted = [(p[group], p['patches']) for p in guided if p.get(group) is not None]
            total = sum(n for _, n in weighted)
            if total:
                values.append(sum(v * n for v, n in weighted) / total)
        if values:
            out[f'plan_{group}'] = _stats(values)
    return out


def paired_differences(runs: List[dict], reference: str, metric: str = 'top1') -> Dict[str, dict]:
    """Per variant, its ``metric`` minus the ``reference`` variant's on the same seeds: mean, the
    standard error of the mean of the paired differences (``None`` for one pair), and the seeds paired."""

    def value(run):
        return run[metric] if metric == 'top1' else run.get('metrics', {}).get(metric)

    ref = {r['seed']: value(r) for r in runs if r['variant'] == reference}
    out = {}
    for name in dict.fromkeys(r['variant'] for r in runs):
        if name == reference:
            continue
        diffs = [
            value(r) - ref[r['seed']]
            for r in runs
            if r['variant'] == name and r['seed'] in ref and value(r) is not None
        ]
        if diffs:
            # one pair has no standard error (None keeps the JSON standard, where NaN is not)
            se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else None
            out[name] = dict(mean=statistics.mean(diffs), se=se, n=len(diffs), diffs=diffs)
    return out


EVALUATION_METRICS = ('finetune_top1', 'probe_cls_top1', 'probe_mean_top1', 'knn_top1')
# Variants the runs are compared against, paired by seed, when they are among the runs (the CNN
# pairing's own references last).
REFERENCES = ('famt', 'mae', 'untrained', 'spark-random', 'spark-untrained')
# Settings every merged run must share, or the comparison would mix protocols.
SHARED_SETTINGS = ('clutter', 'num_labelled', 'num_test')


def report(runs: List[dict]) -> dict:
    """Summary, markdown tables and, for runs with evaluation metrics, the differences against each
    reference variant present (``differences_vs_famt``, ...), paired by seed."""
    summary = summarise(runs)
    out = dict(summary=summary, table=markdown_table(summary))
    if any('metrics' in r for r in runs):
        out['metrics_table'] = metrics_table(summary)
        variants = {r['variant'] for r in runs}
        for reference in REFERENCES:
            if reference in variants and len(variants) > 1:
                out[f'differences_vs_{reference}'] = {
                    metric: paired_differences(runs, reference, metric) for metric in EVALUATION_METRICS
                }
    return out


def merge_runs(paths: List[str]) -> dict:
    """The runs of several outputs of this tool (or their ``.partial`` files, or earlier merges, whose
    sources are kept), e.g. of processes run side by side on disjoint seeds, with their report.
    Refuses a variant and seed given twice, and runs that differ in epochs (untrained encoders, 0
    epochs, aside) or in the evaluation's settings."""
    sources, runs = [], []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, list):  # a .partial file: the runs done so far
            data = dict(runs=data)
        if not isinstance(data, dict) or not isinstance(data.get('runs'), list):
            raise ValueError(f'--merge: {path} holds no "runs" list; give outputs of this tool')
        if 'merged_from' in data:  # an earlier merge: its own sources, not the merge itself
            sources += data['merged_from']
        else:
            sources.append(
                dict(file=path, **{k: data[k] for k in ('command', 'date', 'machine') if k in data})
            )
        runs += data['runs']
    seen = {}
    for run in runs:
        key = (run['variant'], run['seed'])
        if key in seen:
            raise ValueError(
                f'--merge: variant {key[0]!r} with seed {key[1]} is in more than one run; merge outputs '
                'of disjoint seeds or variants'
            )
        seen[key] = run
    checks = [('epochs', [r for r in runs if r['epochs'] != 0])]
    checks += [(key, runs) for key in SHARED_SETTINGS]
    for key, subset in checks:
        values = sorted({str(r.get(key)) for r in subset})
        if len(values) > 1:
            raise ValueError(
                f'--merge: the runs differ in {key!r} ({", ".join(values)}); merge like with like'
            )
    return dict(merged_from=sources, runs=runs, **report(runs))


def metrics_table(summary: Dict[str, dict]) -> str:
    """Markdown: per method, mean ± std and range of each evaluation over seeds, and wall time."""
    names = [
        ('finetune_top1', 'fine-tune'),
        ('probe_cls_top1', 'probe CLS'),
        ('probe_mean_top1', 'probe mean'),
        ('knn_top1', 'k-NN'),
    ]
    lines = [
        '| method | epochs | seeds | '
        + ' | '.join(f'{n} top-1 % (mean ± std, range)' for _, n in names)
        + ' | pretraining s |',
        '|---|---:|---|' + '---:|' * (len(names) + 1),
    ]
    for method, s in summary.items():
        cells = []
        for key, _ in names:
            m = s.get('metrics', {}).get(key)
            cells.append(
                '-' if m is None else f'{m["mean"]:.1f} ± {m["std"]:.1f} ({m["min"]:.1f}-{m["max"]:.1f})'
            )
        w = s['pretrain_s']
        lines.append(
            f'| {method} | {s["epochs"]} | {len(s["seeds"])} | '
            + ' | '.join(cells)
            + f' | {w["mean"]:.0f} ± {w["std"]:.0f} |'
        )
    return '\n'.join(lines)


def markdown_table(summary: Dict[str, dict]) -> str:
    lines = [
        '| method | epochs | seeds | probe top-1 % (mean ± std) | range | probe at init % | '
        'pretraining wall time s (mean ± std) |',
        '|---|---:|---|---:|---:|---:|---:|',
    ]
    for method, s in summary.items():
        t, w, i = s['top1'], s['pretrain_s'], s['init_top1']
        init = '-' if i is None else f'{i["mean"]:.2f}'
        lines.append(
            f'| {method} | {s["epochs"]} | {", ".join(map(str, s["seeds"]))} | '
            f'{t["mean"]:.2f} ± {t["std"]:.2f} | {t["min"]:.2f}-{t["max"]:.2f} | '
            f'{init} | {w["mean"]:.0f} ± {w["std"]:.0f} |'
        )
    return '\n'.join(lines)
