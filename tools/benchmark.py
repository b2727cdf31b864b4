"""Side-by-side training-step benchmark: stock mmpretrain MAE against FAMT-MAE, in one process.

    python tools/benchmark.py [--arch b] [--img-size 224] [--batch-size 8] [--iters 10] [--warmup 2]
        [--device cpu|cuda] [--amp] [--compile] [--optimizer fused|foreach|default] [--pairs mae]
        [--out benchmark.json] [--max-time-ratio R] [--max-time-flops-gap G] [--min-refresh-ratio R]
        [--max-preprocessor-share S]

Both models are built from their configs and take turns on the same batch; what is measured per
method (FLOPs, step time, peak memory, refresh scoring and plan-sampling cost) is listed in
``famt_benchmarks.step``, which holds the code.

``--compile`` wraps each method's ``train_step`` in ``torch.compile`` as mmengine's Runner does with
``compile=True``, and reports whether anything was compiled again during the timed steps (they cycle
through batches with different sample indices, crops and flips). ``--optimizer`` picks AdamW's
implementation through the optimizer config, for both methods alike: ``fused`` (the default: one
kernel over all parameters, on CPU and GPU), ``foreach``, or ``default`` (torch's own choice:
its per-tensor loop on CPU).
The end-to-end benchmark (real data, loader, hooks, refresh) is ``tools/benchmark_e2e.py``.

``--pairs xvit-mae xvit-famt`` compares encoders instead of maskings: MAE (random 0.75) and FAMT-MAE
(0.45 / 0.40) each on a ViT and on an X-ViT of the same ``--arch`` (softmax against XNorm attention,
linear in the tokens), with the refresh scoring of both timed side by side.

A table goes to stdout, everything (with the machine and the date) to ``--out`` as JSON. The
``--max-*`` / ``--min-*`` options check the figures they name on each pair and print met or MISSED;
none is checked by default.
"""

import argparse
from typing import List, Optional

import torch

from famt_benchmarks.measure import log, machine_info, start_run, write_results
from famt_benchmarks.report import (
    add_limit_options,
    check_limits,
    format_limits,
    format_table,
    given_limits,
)
from famt_benchmarks.step import ATTENTION_PAIRS, LIMITS, OPTIMIZER_IMPLS, PAIRS, run_pair, vit_arch


def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--arch', default='b', type=vit_arch, help="mmpretrain ViT arch of the encoder ('b' = ViT-B)"
    )
    parser.add_argument('--img-size', type=int, default=224, help='input size in pixels')
    parser.add_argument('--batch-size', type=int, default=8, help='training batch size')
    parser.add_argument(
        '--score-batch-size',
        type=int,
        default=None,
        help='batch of the refresh scoring comparison (default: --batch-size)',
    )
    parser.add_argument('--iters', type=int, default=10, help='timed steps per method')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps per method first')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--amp', action='store_true', help="mixed precision as the configs' AmpOptimWrapper (GPU only)"
    )
    parser.add_argument(
        '--compile',
        action='store_true',
        help="torch.compile each method's train_step (mmengine's compile=True)",
    )
    parser.add_argument(
        '--optimizer',
        default='fused',
        choices=OPTIMIZER_IMPLS,
        help='AdamW implementation for both methods, set through the optimizer config: '
        "torch's fused or foreach kernels, or the config's own",
    )
    parser.add_argument(
        '--pairs',
        nargs='+',
        default=list(PAIRS),
        help=f'of {list(PAIRS)} (the default), or the encoder comparisons {list(ATTENTION_PAIRS)}',
    )
    parser.add_argument(
        '--profile', action='store_true', help='also profile one step per method (phases and top ops)'
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='benchmark.json', help='JSON file to write')
    add_limit_options(parser, LIMITS)
    args = parser.parse_args(argv)
    args.limits = given_limits(parser, args, LIMITS)
    for name in ('img_size', 'batch_size', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {getattr(args, name)}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    if args.compile and args.profile:
        parser.error(
            '--profile cannot be combined with --compile: the profiler labels the phases by '
            'wrapping methods, which makes the compiled step recompile'
        )
    if args.compile and args.warmup < 1:
        parser.error(
            '--compile needs --warmup >= 1: the first step compiles, and recompilation '
            'is checked on the timed steps after it'
        )
    if args.score_batch_size is None:
        args.score_batch_size = args.batch_size
    elif args.score_batch_size < 1:
        parser.error(f'--score-batch-size must be >= 1, got {args.score_batch_size}')
    unknown = [p for p in args.pairs if p not in PAIRS and p not in ATTENTION_PAIRS]
    if unknown:
        parser.error(f'--pairs must name pairs of {list(PAIRS) + list(ATTENTION_PAIRS)}, got {unknown}')
    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        parser.error(f'--device: {e}')
    if device.type not in ('cpu', 'cuda'):
        parser.error(f"--device must be 'cpu' or 'cuda[:N]', got {args.device!r}")
    if device.type == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device is available here')
    if args.amp and device.type != 'cuda':
        parser.error("--amp needs --device cuda (mmengine's AmpOptimWrapper runs on GPUs only)")
    args.device = device
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    started, command = start_run('benchmark', argv)
    results = dict(
        command=command,
        date=started.isoformat(timespec='seconds'),
        machine=machine_info(args.device),
        settings=dict(
            arch=args.arch,
            img_size=args.img_size,
            batch_size=args.batch_size,
            score_batch_size=args.score_batch_size,
            iters=args.iters,
            warmup=args.warmup,
            amp=args.amp,
            compile=args.compile,
            optimizer=args.optimizer,
            seed=args.seed,
            torch_threads=torch.get_num_threads(),
        ),
        limits=args.limits,
        pairs={},
    )
    for key in args.pairs:
        result = results['pairs'][key] = run_pair(key, args, args.device, log)
        log('')
        log(format_table(key, result))
        if args.limits and key in PAIRS:  # the bounds are FAMT's against its baseline
            result['limits'] = check_limits(result, LIMITS, args.limits)
            log(format_limits(result['limits']))
        log('')
    write_results(results, started, args.out)
    log(
        f'{results["machine"].get("gpu") or results["machine"].get("cpu")}, torch '
        f'{torch.__version__}, {args.arch} {args.img_size} px, batch {args.batch_size}, '
        f'{args.iters} timed steps after {args.warmup} warm-up; written to {args.out}'
    )
    return results


if __name__ == '__main__':
    main()
