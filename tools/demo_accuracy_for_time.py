"""Accuracy for time on the embedded digits demo: variants of the mask generator, equal epochs, seeds.

    python tools/demo_accuracy_for_time.py [--variants mae famt | ablation | spark | arch | NAME ...]
        [--variant NAME=key=value,...] [--seeds 0 1 2] [--epochs N]
        [--refresh-start S] [--refresh-interval I] [--work-dir DIR] [--out accuracy_for_time.json]
        [--benchmark digits | cluttered [--clutter none|fragments|photo] [--renders R]
         [--labels-per-class K] [--finetune-epochs E]]
    python tools/demo_accuracy_for_time.py --merge A.json B.json [...] --out merged.json

``--benchmark cluttered`` trains the cluttered-digits config instead
(``configs/famt/pretrain/famt-mae_vit-tiny-p8_1xb256-20e_cluttered-digits.py``: handwritten digits on
clutter with known digit masks, ``docs/ablation.md``): each run then records its few-label fine-tune,
linear probes and k-NN (``FAMTFewLabelEvalHook``, the fine-tune as ``top1``) and the object capture of its
maps and plans (``FAMTObjectCaptureHook``), and the JSON adds the differences against ``famt`` paired by
seed. ``--variants calibration`` (untrained, MAE, the oracle-throw) checks that a clutter level can
separate variants; ``--variants cluttered`` compares them, with the ground-truth oracles and FAMT's
counts drawn at random; ``--variants spark spark-untrained`` is the CNN pairing on it (SparK's own
cluttered config, ``famt-spark_sparse-convnext-mini-p8_1xb256-20e_cluttered-digits.py``, its
untrained encoder beside it).

Every variant trains the demo config
(``configs/famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py``: the same tiny ViT, data,
optimiser, number of epochs and refresh schedule) with its own mask generator. The default compares
plain MAE (random 0.75, no throwing, no refresh hook) with FAMT-MAE as configured (warm-up,
refreshes, guided masking 0.45 and throwing 0.40); ``--variants ablation`` runs the method's
ablations (``docs/digits_demo.md``); ``--variants spark`` the CNN pairing, SparK on a tiny sparse
ConvNeXt with FAMT's frequency-only masking against random masking (its own config,
``configs/famt/pretrain/famt-spark_sparse-convnext-mini-p8_1xb64-60e_digits.py``); ``--variants arch``
FAMT-MAE as configured on three encoders: the demo's ViT, X-ViT
(``famt-mae_xvit-tiny-p4_1xb64-60e_digits.py``) and the ViT with trainable matrix activations
(``famt-mae_vit-tiny-matact-p4_1xb64-60e_digits.py``); ``--variants xvit-rows`` the X-ViT demo with each
reading of its signed attention for the refresh (``score_attention``); ``--list``
prints the known variants. ``--variant`` adds one of
your own, overrides of the demo's FAMT generator, e.g. ``--variant sigma2=sigma_ratio=0.15`` or
``--variant amt-lowest=type=AMTMaskGenerator,throw_mode=lowest``. The runs take turns (seed by seed,
the order reversed every other seed) in this one process. Per run it records the linear probe's
held-out top-1 (the config's ``FAMTLinearProbeHook``) and the pretraining wall time, from the start of
the first training epoch to the end of the last one (refresh passes included; probes, set-up and
the final checkpoint excluded). It prints a markdown table of mean, standard deviation and range
per variant and writes all runs to ``--out``, with the fine-tune and probe differences against ``famt``,
``mae`` and ``untrained`` (those among the runs) paired by seed. ``--merge`` trains nothing: it joins
the outputs of processes run side by side (disjoint seeds or variants, the same protocol) into one.
"""

import argparse
import datetime
import json
import os
import os.path as osp
import platform
import sys
from typing import List, Optional

from famt_benchmarks.accuracy_for_time import (
    BENCHMARKS,
    VARIANT_GROUPS,
    VARIANTS,
    apply_variant,
    merge_runs,
    parse_variant,
    report,
    resolve_variants,
    run_once,
    set_cluttered,
    variant_config,
)


def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--variants',
        nargs='*',
        default=None,
        help='registered variants or groups (default: mae famt; "ablation": '
        f'{" ".join(VARIANT_GROUPS["ablation"])}; "spark": '
        f'{" ".join(VARIANT_GROUPS["spark"])}; "arch": '
        f'{" ".join(VARIANT_GROUPS["arch"])}; "xvit-rows": '
        f'{" ".join(VARIANT_GROUPS["xvit-rows"])}); see --list',
    )
    parser.add_argument(
        '--variant',
        action='append',
        default=[],
        metavar='NAME=key=value,...',
        help="a variant of your own: overrides of the demo's mask generator (repeatable)",
    )
    parser.add_argument('--list', action='store_true', help='print the known variants and exit')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=None, help="epochs per run (default: the config's, 60)")
    parser.add_argument(
        '--refresh-start',
        type=int,
        default=None,
        help="epochs of warm-up before the first refresh (default: the config's, "
        '20); set it with --epochs so guided masking gets its share',
    )
    parser.add_argument(
        '--refresh-interval',
        type=int,
        default=None,
        help="epochs between refreshes (default: the config's, 20)",
    )
    parser.add_argument(
        '--train-images',
        type=int,
        default=None,
        help='pretrain on the first N training images only (quick checks)',
    )
    parser.add_argument(
        '--benchmark',
        choices=sorted(BENCHMARKS),
        default=None,
        help='digits (the embedded demo, default) or cluttered (handwritten digits on '
        'clutter with known digit masks, evaluated by a few-label fine-tune, probes, '
        'k-NN and object capture; docs/ablation.md)',
    )
    parser.add_argument(
        '--clutter',
        choices=['none', 'fragments', 'photo'],
        default=None,
        help="cluttered benchmark: the background (default: the config's, photo)",
    )
    parser.add_argument(
        '--renders',
        type=int,
        default=None,
        help="cluttered benchmark: pretraining images per training digit (default: the config's, 4)",
    )
    parser.add_argument(
        '--labels-per-class',
        type=int,
        default=None,
        help='cluttered benchmark: labelled images per class of the evaluation, 1-400 '
        "(default: the config's, 100)",
    )
    parser.add_argument(
        '--finetune-epochs',
        type=int,
        default=None,
        help="cluttered benchmark: epochs of the evaluation's fine-tune (default: the config's, 30)",
    )
    parser.add_argument(
        '--config',
        default=None,
        help="train this config instead of the benchmark's (e.g. the X-ViT cluttered-digits config); "
        'the cluttered options need one with FAMTClutteredDigits datasets',
    )
    parser.add_argument('--work-dir', default='work_dirs/accuracy_for_time')
    parser.add_argument(
        '--out', default=None, help='JSON of all runs (default: WORK_DIR/accuracy_for_time.json)'
    )
    parser.add_argument('--log-level', default='WARNING', help="mmengine's, e.g. INFO")
    parser.add_argument(
        '--merge',
        nargs='+',
        default=None,
        metavar='JSON',
        help='train nothing: merge the runs of earlier outputs (e.g. of processes run side by side on '
        'disjoint seeds) into --out, with their summary and paired differences',
    )
    args = parser.parse_args(argv)
    if args.list:
        return args
    if args.merge is not None:
        if args.out is None:
            parser.error('--merge needs --out, the merged JSON to write')
        missing = [path for path in args.merge if not osp.isfile(path)]
        if missing:
            parser.error(f'--merge: no such file: {", ".join(missing)}')
        return args
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds must be distinct, got {args.seeds}')
    for name, value, low in (
        ('--epochs', args.epochs, 1),
        ('--train-images', args.train_images, 1),
        ('--refresh-start', args.refresh_start, 0),
        ('--refresh-interval', args.refresh_interval, 1),
        ('--renders', args.renders, 1),
        ('--labels-per-class', args.labels_per_class, 1),
        ('--finetune-epochs', args.finetune_epochs, 0),
    ):
        if value is not None and value < low:
            parser.error(f'{name} must be >= {low}, got {value}')
    if args.renders is not None and args.renders > 64:
        parser.error(f'--renders must be in [1, 64], got {args.renders}')
    if args.labels_per_class is not None and args.labels_per_class > 400:
        parser.error(f'--labels-per-class must be in [1, 400], got {args.labels_per_class}')
    if args.config is not None and args.benchmark is not None:
        parser.error('give --benchmark or --config, not both')
    cluttered = (args.clutter, args.renders, args.labels_per_class, args.finetune_epochs)
    if args.config is None and args.benchmark != 'cluttered' and any(v is not None for v in cluttered):
        parser.error(
            '--clutter, --renders, --labels-per-class and --finetune-epochs need --benchmark cluttered'
        )
    if args.config is not None:
        from famt_mm.utils.configs import find_config

        try:
            find_config(args.config)
        except FileNotFoundError as e:
            parser.error(f'--config: {e}')
    if args.config is None:
        args.benchmark = args.benchmark or 'digits'
        args.config = BENCHMARKS[args.benchmark]
    args.known = dict(VARIANTS)
    custom = []
    for text in args.variant:
        try:
            name, variant = parse_variant(text)
        except ValueError as e:
            parser.error(str(e))
        if name in args.known or name in VARIANT_GROUPS:
            parser.error(f'--variant: {name!r} is already a registered variant or group; choose another name')
        args.known[name] = variant
        custom.append(name)
    names = args.variants if args.variants is not None else ([] if custom else ['default'])
    try:
        args.names = resolve_variants(list(names) + custom, args.known)
        check_variants(args)
    except ValueError as e:
        parser.error(str(e))
    if not args.names:
        parser.error('no variants to run: give --variants or --variant')
    args.out = args.out or osp.join(args.work_dir, 'accuracy_for_time.json')
    return args


def check_variants(args) -> None:
    """Build every variant's generator on the config before any run, so a bad one fails now."""
    from mmengine.config import Config

    from famt_mm.utils.configs import find_config

    for name in args.names:
        try:
            variant = args.known[name]
            cfg = Config.fromfile(find_config(variant_config(variant, args.benchmark, args.config)))
            apply_variant(cfg, variant)
            set_cluttered(cfg, args.clutter, args.renders, args.labels_per_class, args.finetune_epochs)
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f'variant {name!r}: {e}') from e


def variant_record(variant, benchmark, default_config: str) -> dict:
    """What the JSON records of a variant: its label, generator overrides, config and (when it has
    them) its other config settings."""
    record = dict(
        label=variant.label,
        generator=variant.generator,
        config=variant_config(variant, benchmark, default_config),
    )
    if variant.cfg_options:
        record['cfg_options'] = variant.cfg_options
    return record


def list_variants() -> str:
    lines = [
        f'{name:16s} {v.label}: {v.generator or "the config as it is"}'
        + (f' (config {v.config})' if v.config else '')
        + (f' {v.cfg_options}' if v.cfg_options else '')
        for name, v in VARIANTS.items()
    ]
    lines += [f'{name:16s} group: {" ".join(names)}' for name, names in VARIANT_GROUPS.items()]
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    if args.list:
        print(list_variants())
        return {}
    if args.merge is not None:
        try:
            result = merge_runs(args.merge)
        except ValueError as e:
            sys.exit(f'error: {e}')
        return write_result(result, args.out)
    import torch

    import famt_mm  # noqa: F401  (registers the FAMT modules)

    started = datetime.datetime.now().astimezone()
    os.makedirs(args.work_dir, exist_ok=True)
    runs = []
    for k, seed in enumerate(args.seeds):
        for name in args.names if k % 2 == 0 else args.names[::-1]:  # no variant always first
            variant = args.known[name]
            run = run_once(name, variant, seed, args, osp.join(args.work_dir, f'{name}_seed{seed}'))
            runs.append(run)
            if 'metrics' in run:
                scores = ', '.join(f'{k} {v:.2f} %' for k, v in run['metrics'].items())
                print(
                    f'{variant.label}, seed {seed}: {scores}, pretraining {run["pretrain_s"]:.1f} s',
                    flush=True,
                )
            else:
                print(
                    f'{variant.label}, seed {seed}: probe top-1 {run["top1"]:.2f} % '
                    f'(at init {run["init_top1"]:.2f} %), pretraining {run["pretrain_s"]:.1f} s',
                    flush=True,
                )
            with open(args.out + '.partial', 'w') as f:  # what is done so far, if stopped
                json.dump(runs, f, indent=2)
    result = dict(
        command='python tools/demo_accuracy_for_time.py '
        + ' '.join(argv if argv is not None else sys.argv[1:]),
        date=started.isoformat(timespec='seconds'),
        machine=dict(
            platform=platform.platform(),
            processor=cpu_model(),
            cores=os.cpu_count(),
            torch=torch.__version__,
            torch_threads=torch.get_num_threads(),
        ),
        variants={name: variant_record(args.known[name], args.benchmark, args.config) for name in args.names},
        runs=runs,
        **report(runs),
    )
    write_result(result, args.out)
    if osp.exists(args.out + '.partial'):
        os.remove(args.out + '.partial')
    return result


def write_result(result: dict, out: str) -> dict:
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
    print()
    print(result.get('metrics_table', result['table']))
    for key, by_metric in result.items():
        if key.startswith('differences_vs_') and by_metric.get('finetune_top1'):
            cells = [
                f'{name} {d["mean"]:+.1f}'
                + (f' ± {d["se"]:.1f}' if d['se'] is not None else '')
                + f' (n={d["n"]})'
                for name, d in by_metric['finetune_top1'].items()
            ]
            print(f'fine-tune against {key[len("differences_vs_") :]}, paired by seed: ' + '; '.join(cells))
    print(f'\nwritten to {out}')
    return result


def cpu_model() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == '__main__':
    main()
