"""Export a pretraining checkpoint's ViT backbone for an mmdet or mmseg config (key-checked).

    python tools/export_backbone.py SRC CONFIG OUT [--cfg-options k=v ...]

SRC: a famt_mm / mmpretrain pretraining checkpoint with an mmpretrain VisionTransformer-family backbone
(FAMT-MAE, MAE, MFF, MILAN, MaskFeat, SimMIM with a ViT, a ViT classifier; not BEiT-style ViTs, Swin or
CNNs, which are named by kind). CONFIG: the downstream config; its default_scope ('mmdet' or 'mmseg')
picks the key renames, its model.backbone is the target. OUT: the backbone checkpoint the config's
init_cfg points at. Prints matched / missing / unexpected keys; exits with status 1 and writes nothing,
naming the file, when SRC is missing, a directory, not a checkpoint or holds no ViT state dict, CONFIG
is no config file or needs mmdet / mmseg / mmcv's ops that are not installed (naming the extra), OUT is
a directory, any backbone weight would stay uninitialised, a pretrained weight has no place in the
target, a shape differs, or the written file does not load back as exported.
"""

import argparse
import sys

from mmengine.config import DictAction

from famt_mm.downstream.export import ExportError, export_backbone


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='pretraining checkpoint')
    parser.add_argument('config', help='downstream config (mmdet or mmseg default_scope)')
    parser.add_argument('out', help='output backbone checkpoint')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default=None,
        help='override settings of the config, e.g. model.backbone.depth=6',
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = export_backbone(args.src, args.config, args.out, args.cfg_options)
    except ExportError as error:
        print(f'export refused: {error}', file=sys.stderr)
        return 1
    print(result.report.summary())
    if result.ignored:
        print(f'  left out of the source: {", ".join(result.ignored)}')
    print(
        f'verified {result.verified} tensors after loading {result.out} through the target '
        f"backbone's own loader"
    )
    print(f'wrote {result.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
