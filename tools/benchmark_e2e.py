"""End-to-end benchmark: baseline and FAMT trained through mmengine's Runner from their configs.

    python tools/benchmark_e2e.py [--pairs mae simmim] [--data-root DIR | --num-images 128]
        [--batch-size 8] [--workers 2] [--epochs 3] [--refresh-start 1] [--amp] [--compile]
        [--optimizer fused|foreach|default] [--tiny] [--out benchmark_e2e.json]
        [--max-epoch-ratio R] [--max-refresh-share S]

For each pair of ``tools/benchmark.py`` (stock MAE against FAMT-MAE; SimMIM against FAMT-SimMIM)
both methods train on the same image folder (``--data-root``, or JPEGs generated from images that
ship with installed packages) with the same batch, workers and device, for ``--epochs`` epochs;
FAMT refreshes once, before epoch ``--refresh-start``. First the training pipeline alone (decode,
crop, flip, pack, collate) is timed in one process, as one loader worker. Reported per method, over
the epochs from ``--refresh-start`` on: median epoch time, images/s, the share of time the step
waited for data (mmengine's ``data_time`` against ``time``), ``train_step`` time, hooks, refresh
time and images/s, the loader's images/s per worker and the workers that would keep up; and the
FAMT / baseline epoch, throughput and step ratios. The device is the Runner's (a GPU when there is
one); ``CUDA_VISIBLE_DEVICES= python tools/benchmark_e2e.py`` keeps a GPU machine on its CPU.
The ``--max-*`` options check the figures they name on each pair (none by default).
"""

import argparse
import os
import os.path as osp
import shutil
import time
from typing import List, Optional

import torch

from famt_benchmarks.e2e import LIMITS, TINY, E2EOptions, run_pair_e2e
from famt_benchmarks.images import list_images, make_image_folder
from famt_benchmarks.measure import log, machine_info, start_run, write_results
from famt_benchmarks.report import (
    add_limit_options,
    check_limits,
    format_e2e_table,
    format_limits,
    given_limits,
)
from famt_benchmarks.step import OPTIMIZER_IMPLS, PAIRS, vit_arch


def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pairs', nargs='+', default=list(PAIRS), help=f'of {list(PAIRS)}')
    parser.add_argument('--data-root', help='image folder to train on (default: generate one)')
    parser.add_argument(
        '--num-images', type=int, default=128, help='images to generate when no --data-root is given'
    )
    parser.add_argument('--batch-size', type=int, default=8, help='training batch size')
    parser.add_argument('--workers', type=int, default=2, help='loader workers')
    parser.add_argument('--epochs', type=int, default=3, help='epochs per method')
    parser.add_argument(
        '--refresh-start',
        type=int,
        default=1,
        help='FAMT refreshes once, before this epoch; epochs from it on are measured',
    )
    parser.add_argument(
        '--refresh-batch-size',
        type=int,
        default=None,
        help="scoring batch of the refresh (default: the config's)",
    )
    parser.add_argument(
        '--loader-images', type=int, default=32, help='images timed through the training pipeline alone'
    )
    parser.add_argument('--arch', default='b', type=vit_arch, help="mmpretrain ViT arch ('b' = the configs')")
    parser.add_argument('--img-size', type=int, default=224, help='input size in pixels')
    parser.add_argument(
        '--tiny',
        action='store_true',
        help=f'test the tool on a CPU: {TINY["arch"]} at {TINY["img_size"]} px and a '
        'one-block decoder (overrides --arch and --img-size)',
    )
    parser.add_argument(
        '--device', default=None, help="'cpu' or 'cuda': checked against the Runner's device (default: it)"
    )
    parser.add_argument(
        '--amp', action='store_true', help="the configs' AmpOptimWrapper (GPU only); fp32 without"
    )
    parser.add_argument('--compile', action='store_true', help="mmengine's compile=True")
    parser.add_argument(
        '--optimizer',
        default='fused',
        choices=OPTIMIZER_IMPLS,
        help='AdamW implementation for both methods (see tools/benchmark.py)',
    )
    parser.add_argument(
        '--work-dir',
        default='work_dirs/benchmark_e2e',
        help='runs and generated images go here; removed afterwards',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='benchmark_e2e.json', help='JSON file to write')
    add_limit_options(parser, LIMITS)
    args = parser.parse_args(argv)
    args.limits = given_limits(parser, args, LIMITS)
    for name in ('num_images', 'batch_size', 'epochs', 'loader_images', 'img_size'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {getattr(args, name)}')
    if args.workers < 0:
        parser.error(f'--workers must be >= 0, got {args.workers}')
    if not 1 <= args.refresh_start < args.epochs:
        parser.error(
            f'--refresh-start must be in [1, --epochs - 1] = [1, {args.epochs - 1}] (epoch '
            f'0 pays start-up costs; measured epochs follow the refresh), got '
            f'{args.refresh_start}'
        )
    if args.refresh_batch_size is not None and args.refresh_batch_size < 1:
        parser.error(f'--refresh-batch-size must be >= 1, got {args.refresh_batch_size}')
    unknown = [p for p in args.pairs if p not in PAIRS]
    if unknown:
        parser.error(f'--pairs must name pairs of {list(PAIRS)}, got {unknown}')
    if args.data_root is not None and not list_images(args.data_root):
        parser.error(f'--data-root {args.data_root!r} holds no images')
    runner_device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.device is not None and args.device.split(':')[0] != runner_device:
        parser.error(
            f"--device {args.device!r}: mmengine's Runner trains on {runner_device} here "
            f'(hide GPUs with CUDA_VISIBLE_DEVICES= to train on the CPU)'
        )
    args.device = runner_device
    if args.amp and runner_device != 'cuda':
        parser.error("--amp needs a GPU (mmengine's AmpOptimWrapper runs on GPUs only)")
    if args.tiny:
        args.arch, args.img_size = TINY['arch'], TINY['img_size']
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    started, command = start_run('benchmark_e2e', argv)
    os.makedirs(args.work_dir, exist_ok=True)
    generated = None
    if args.data_root is None:
        args.data_root = osp.join(args.work_dir, f'images_{time.time_ns()}')
        generated = make_image_folder(args.data_root, args.num_images, seed=args.seed)
        log(
            f'generated {args.num_images} JPEGs from {generated["source"]} in {args.data_root} '
            f'(mean {generated["mean_pixels"] / 1e3:.0f} kpixels, '
            f'{generated["mean_bytes"] / 1e3:.0f} kB)'
        )
    opts = E2EOptions(
        data_root=args.data_root,
        batch_size=args.batch_size,
        workers=args.workers,
        epochs=args.epochs,
        refresh_start=args.refresh_start,
        refresh_batch_size=args.refresh_batch_size,
        arch=args.arch,
        img_size=args.img_size,
        tiny_decoder=args.tiny,
        amp=args.amp,
        compile=args.compile,
        optimizer=args.optimizer,
        work_dir=args.work_dir,
        seed=args.seed,
    )
    results = dict(
        command=command,
        date=started.isoformat(timespec='seconds'),
        machine=machine_info(torch.device(args.device)),
        settings=dict(
            arch=args.arch,
            img_size=args.img_size,
            batch_size=args.batch_size,
            workers=args.workers,
            epochs=args.epochs,
            refresh_start=args.refresh_start,
            amp=args.amp,
            compile=args.compile,
            optimizer=args.optimizer,
            num_images=len(list_images(args.data_root)),
            data=generated or dict(root=args.data_root),
            seed=args.seed,
            torch_threads=torch.get_num_threads(),
        ),
        limits=args.limits,
        pairs={},
    )
    try:
        for key in args.pairs:
            log(
                f'[{key}] end-to-end, batch {args.batch_size}, {args.workers} workers, '
                f'{args.epochs} epochs, refresh before epoch {args.refresh_start}'
            )
            result = results['pairs'][key] = run_pair_e2e(PAIRS[key], opts, args.loader_images, log)
            log('')
            log(format_e2e_table(key, result))
            if args.limits:
                result['limits'] = check_limits(result, LIMITS, args.limits)
                log(format_limits(result['limits']))
            log('')
    finally:
        if generated is not None:
            shutil.rmtree(args.data_root, ignore_errors=True)
    write_results(results, started, args.out)
    log(
        f'{results["machine"].get("gpu") or results["machine"].get("cpu")}, torch '
        f'{torch.__version__}; written to {args.out}'
    )
    return results


if __name__ == '__main__':
    main()
