"""Rank agreement of X-ViT's scoring maps with the softmax ViT's, for each reading of its attention.

    python tools/score_agreement.py --vit-checkpoints V0 V1 V2 --xvit-checkpoints X0 X1 X2
        [--vit-config CFG] [--xvit-config CFG] [--images 359] [--out score_agreement.json]

The checkpoints pair by position (one seed each), e.g. the ``famt_seed*`` and ``famt-xvit_seed*`` runs
of ``tools/demo_accuracy_for_time.py --variants arch``. Every model scores the same held-out digits as
a refresh would; per image the Spearman rank correlation of the ViT's map and the X-ViT's map is
averaged, for FAMT's weights, FAMT's attention term alone and AMT's, with the X-ViT's signed attention
read as ``clip``, ``shift`` and ``abs`` (``docs/method.md`` section 9). ``ViT vs ViT (next seed)`` is
the agreement of two independently trained ViTs, for scale. ``ViT softmax vs its own cosines`` holds
the model fixed: each ViT's maps against those of its last block with the softmax replaced by the
cosine similarities of the same queries and keys, read each way. A markdown table goes to stdout, all
figures with the command, machine and date to ``--out``.
"""

import argparse
import datetime
import json
import os
import platform
import sys
from typing import List, Optional

import torch

from famt_benchmarks.score_agreement import (
    agreement,
    load_model,
    markdown_table,
    reading_agreement,
    whole_images,
)

VIT_CONFIG = 'configs/famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py'
XVIT_CONFIG = 'configs/famt/pretrain/famt-mae_xvit-tiny-p4_1xb64-60e_digits.py'


def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--vit-checkpoints', nargs='+', required=True)
    parser.add_argument('--xvit-checkpoints', nargs='+', required=True)
    parser.add_argument('--vit-config', default=VIT_CONFIG)
    parser.add_argument('--xvit-config', default=XVIT_CONFIG)
    parser.add_argument('--images', type=int, default=359, help='held-out digits scored (at most 359)')
    parser.add_argument('--out', default='score_agreement.json')
    args = parser.parse_args(argv)
    if len(args.vit_checkpoints) != len(args.xvit_checkpoints):
        parser.error(
            f'--vit-checkpoints and --xvit-checkpoints pair by seed: give as many of each, got '
            f'{len(args.vit_checkpoints)} and {len(args.xvit_checkpoints)}'
        )
    if args.images < 2:
        parser.error(f'--images must be >= 2, got {args.images}')
    for path in args.vit_checkpoints + args.xvit_checkpoints + [args.vit_config, args.xvit_config]:
        if not os.path.isfile(path):
            parser.error(f'no such file: {path}')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    import famt_mm  # noqa: F401  (registers the FAMT modules)

    started = datetime.datetime.now().astimezone()
    vits = [load_model(args.vit_config, c) for c in args.vit_checkpoints]
    xvits = [load_model(args.xvit_config, c) for c in args.xvit_checkpoints]
    batch = whole_images(args.vit_config, args.images)
    result = {**agreement(vits, xvits, batch), **reading_agreement(vits, batch)}
    table = markdown_table(result)
    command = 'python tools/score_agreement.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    out = dict(
        command=command,
        date=started.isoformat(timespec='seconds'),
        machine=dict(
            platform=platform.platform(),
            cores=os.cpu_count(),
            torch=torch.__version__,
            torch_threads=torch.get_num_threads(),
        ),
        images=len(batch['inputs']),
        agreement=result,
        table=table,
    )
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=2)
    print(table)
    print(f'\n{len(batch["inputs"])} held-out digits; written to {args.out}')
    return out


if __name__ == '__main__':
    main()
