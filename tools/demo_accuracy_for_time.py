"""Accuracy for time on the embedded digits demo: plain MAE against FAMT-MAE, equal epochs, seeds.

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
import argparse
import datetime
import json
import os.path as osp
import platform
import sys
from typing import List, Optional

from famt_mm.benchmark.accuracy_for_time import DEMO_CONFIG, METHODS, markdown_table, run_once, summarise


def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=None,
                        help="epochs per run (default: the config's, 60)")
    parser.add_argument('--train-images', type=int, default=None,
                        help='pretrain on the first N training images only (quick checks)')
    parser.add_argument('--config', default=DEMO_CONFIG, help=argparse.SUPPRESS)
    parser.add_argument('--work-dir', default='work_dirs/accuracy_for_time')
    parser.add_argument('--out', default=None,
                        help='JSON of all runs (default: WORK_DIR/accuracy_for_time.json)')
    parser.add_argument('--log-level', default='WARNING', help="mmengine's, e.g. INFO")
    args = parser.parse_args(argv)
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds must be distinct, got {args.seeds}')
    if args.epochs is not None and args.epochs < 1:
        parser.error(f'--epochs must be >= 1, got {args.epochs}')
    if args.train_images is not None and args.train_images < 1:
        parser.error(f'--train-images must be >= 1, got {args.train_images}')
    args.out = args.out or osp.join(args.work_dir, 'accuracy_for_time.json')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    import torch

    import famt_mm  # noqa: F401  (registers the FAMT modules)

    started = datetime.datetime.now().astimezone()
    runs = []
    names = list(METHODS)
    for k, seed in enumerate(args.seeds):
        for method in (names if k % 2 == 0 else names[::-1]):  # neither always runs first
            slug = 'famt' if method.startswith('FAMT') else 'mae'
            run = run_once(method, seed, args, osp.join(args.work_dir, f'{slug}_seed{seed}'))
            runs.append(run)
            print(f'{method}, seed {seed}: probe top-1 {run["top1"]:.2f} % '
                  f'(at init {run["init_top1"]:.2f} %), pretraining {run["pretrain_s"]:.1f} s',
                  flush=True)
    summary = summarise(runs)
    result = dict(
        command='python tools/demo_accuracy_for_time.py ' +
        ' '.join(argv if argv is not None else sys.argv[1:]),
        date=started.isoformat(timespec='seconds'),
        machine=dict(platform=platform.platform(), torch=torch.__version__,
                     torch_threads=torch.get_num_threads()),
        runs=runs, summary=summary, table=markdown_table(summary))
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=2)
    print()
    print(result['table'])
    print(f'\nwritten to {args.out}')
    return result


if __name__ == '__main__':
    main()
