"""The papers' evaluation of one pretraining run: linear probe + fine-tuning, one results-table row.

    python tools/evaluate.py PRETRAIN_WORK_DIR_OR_CHECKPOINT --dataset {cifar10,cifar100,stl10,
        tinyimagenet,in1k} [--protocols linear finetune] [--data-root DIR] [--table PREFIX]
        [--work-dir DIR] [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

The latest checkpoint of the work dir (mmengine's ``last_checkpoint``) is probed with the dataset's
``configs/famt/benchmarks/vit-base-p*_*-linear-coslr-90e_<dataset>.py`` and fine-tuned with
``vit-base-p*_*-coslr-100e_<dataset>.py`` (``...-simmim-coslr-100e...`` for a SimMIM checkpoint);
both get the pretraining's ViT arch,
patch size and normalisation. Each is trained, then tested with its final weights; the row
(checkpoint, pretraining, epochs, top-1) goes into PREFIX.json and PREFIX.md (default
work_dirs/famt_results), replacing an earlier row of the same checkpoint and dataset.
``--cfg-options`` applies to both protocols (e.g. ``train_cfg.max_epochs=1`` for a smoke run; the
overrides are recorded in the row). For several GPUs run it under torchrun with ``--launcher pytorch``.
A pretraining path, config or data root that is missing or not what it should be ends the tool with a
message naming it and exit status 1 before anything is trained or written.
"""

import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

import famt_mm  # noqa: F401  (registers FAMT modules; makes mmengine checkpoints load on torch >= 2.6)
from famt_mm.checkpoint import CheckpointFileError, read_checkpoint, unwrap_state_dict
from famt_mm.evaluation.protocol import DATASETS, PROTOCOLS, evaluate, find_checkpoint
from famt_mm.utils.cli import run_cli


class InputError(ValueError):
    """A path the tool cannot use; the message names it and says what would do."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('pretrain', help='pretraining work dir (its latest checkpoint) or checkpoint')
    parser.add_argument('--dataset', required=True, choices=DATASETS)
    parser.add_argument('--protocols', nargs='+', choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument('--data-root', help="the dataset's folder, instead of the configs' data/...")
    parser.add_argument(
        '--table',
        default='work_dirs/famt_results',
        help='results table path without extension (.json and .md are written)',
    )
    parser.add_argument('--work-dir', help='defaults to PRETRAIN_WORK_DIR/eval_<dataset>')
    parser.add_argument('--linear-config', help='instead of the benchmark config for the dataset')
    parser.add_argument('--finetune-config', help='instead of the benchmark config for the dataset')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='overrides for both protocols, e.g. train_cfg.max_epochs=1',
    )
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    return parser.parse_args(argv)


def check_inputs(args) -> None:
    """InputError unless the pretraining checkpoint, the configs and the data root are usable."""
    try:
        checkpoint = find_checkpoint(args.pretrain)
        loaded = read_checkpoint(checkpoint, mmap=True)  # metadata only: no full read
        unwrap_state_dict(loaded, checkpoint)
    except (FileNotFoundError, CheckpointFileError) as error:
        raise InputError(
            f'PRETRAIN: {error}. Give a pretraining work dir or one of its epoch_N.pth checkpoints'
        ) from error
    if 'cfg' not in (loaded.get('meta') or {}):
        raise InputError(
            f'PRETRAIN: {checkpoint} holds no pretraining config (meta["cfg"]): give a '
            "checkpoint written by mmengine's Runner (tools/train.py)"
        )
    for option, path in (
        ('--linear-config', args.linear_config),
        ('--finetune-config', args.finetune_config),
    ):
        if path and not osp.isfile(path):
            raise InputError(
                f'{option}: {path} is a directory, not a config file'
                if osp.isdir(path)
                else f'{option}: no such config file {path}'
            )
    if args.data_root and not osp.isdir(args.data_root):
        raise InputError(f"--data-root: {args.data_root} is not a directory (the dataset's folder)")


def main(argv=None) -> dict:
    args = parse_args(argv)
    check_inputs(args)
    configs = {k: v for k, v in (('linear', args.linear_config), ('finetune', args.finetune_config)) if v}
    row = evaluate(
        args.pretrain,
        args.dataset,
        args.protocols,
        table=args.table,
        work_dir=args.work_dir,
        data_root=args.data_root,
        configs=configs,
        cfg_options=args.cfg_options,
        launcher=args.launcher,
    )
    summary = ', '.join(
        f'{p} top-1 {row[f"{p}_top1"]:.2f} % after {row[f"{p}_epochs"]} epochs' for p in args.protocols
    )
    print(f'{args.dataset}: {row["pretraining"]} ({row["pretrain_epochs"]} epochs): {summary}')
    return row


def cli(argv=None) -> int:
    """``main`` with the exit status: 1, and a message naming the path, on an unusable input."""
    return run_cli(main, argv, InputError, 'evaluate')


if __name__ == '__main__':
    sys.exit(cli())
