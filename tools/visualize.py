"""PNG grids of FAMT's maps, a sampled plan and MAE reconstructions for given images.

    python tools/visualize.py CONFIG [--checkpoint CKPT]
        (--images A.jpg B.png ... | --digits 0 1 2 | --cluttered 0 1 2 [--clutter photo])
        [--variant NAME] [--generator-options key=value ...] [--cfg-options key=value ...]
        [--out-dir DIR] [--panel 192] [--seed 0] [--device cpu]

Per image it writes ``<name>_maps.png`` (the image, the AMT map, the FAMT map, the frequency factor
and one plan sampled by the model's preprocessor: masked red, thrown blue, visible green) and, for
FAMT-MAE, ``<name>_reconstruction.png`` (original, masked input, reconstruction with the visible
patches pasted back; a row for the model's guided plan and one for MAE's random 0.75 masking).

Images go through the config's whole-image scoring pipeline (the ``FAMTRefreshHook``'s: resize to
the training size, no crop, no flip), so the maps are those a refresh would store. Without
``--checkpoint`` the model is freshly initialised. ``--digits`` takes images of the demo's held-out
digits split by index; ``--cluttered`` images of the cluttered digits' held-out split
(``FAMTClutteredDigits``, RGB), with the digit's box outlined on the image panels and each map's
ROC-AUC as a detector of the digit's patches in its caption.

A config, image or checkpoint that is missing, a directory, not an image or not a checkpoint of the
config ends the tool with a message naming the file, exit status 1, and nothing written.

``--variant`` swaps the config's mask generator for a variant of the ablation registry (those of
``tools/demo_accuracy_for_time.py --list``, e.g. ``famt-frequency``, ``famt-lowest``, ``amt``);
``--generator-options`` sets switches of the mask generator directly (after the variant), e.g.
``weight_source=frequency throw_mode=lowest``. The plan is then drawn with that generator's weights,
counts and throwing, the captions name it and the file names carry it (``<name>_<variant>_maps.png``),
so figures of several variants side by side show what a switch does. Both work for
MAE and SimMIM configs (SimMIM models draw the maps figure only). ``--cfg-options`` overrides any other
setting of the config, as in mmengine's tools, e.g. ``model.backbone.score_attention=shift`` to score an
X-ViT checkpoint with another reading of its signed attention.
"""

import argparse
import os
import os.path as osp
import re
import sys
import time
from typing import List, Optional

import cv2
import torch
from mmengine.config import DictAction


class InputError(ValueError):
    """A file or option the tool cannot use; the message names it and says what would do."""


def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'config', help='a FAMT config, e.g. configs/famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py'
    )
    parser.add_argument('--checkpoint', help='mmengine checkpoint of that config (default: a fresh model)')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--images', nargs='+', help='image files')
    source.add_argument('--digits', nargs='+', type=int, help="indices into the digits demo's held-out split")
    source.add_argument(
        '--cluttered',
        nargs='+',
        type=int,
        help="indices into the cluttered digits' held-out split (the object box is "
        "outlined and each map's caption gives its ROC-AUC on the digit's patches)",
    )
    parser.add_argument(
        '--capture',
        type=int,
        default=None,
        metavar='N',
        help='with --cluttered: also measure the object capture (ROC-AUC, lift) of '
        'each map over the first N held-out images and write capture.json',
    )
    parser.add_argument(
        '--clutter',
        choices=['none', 'fragments', 'photo'],
        default=None,
        help="with --cluttered: the background (default: the config's training set's, else photo)",
    )
    parser.add_argument('--variant', help='a variant of the ablation registry, e.g. famt-lowest')
    parser.add_argument(
        '--generator-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='mask-generator settings, e.g. weight_source=frequency throw_mode=lowest',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        metavar='KEY=VALUE',
        help='override settings of the config (mmengine syntax), e.g. model.backbone.score_attention=shift',
    )
    parser.add_argument('--out-dir', default='work_dirs/visualize')
    parser.add_argument('--panel', type=int, default=192, help='panel side in pixels')
    parser.add_argument('--seed', type=int, default=0, help='seed of the sampled plans')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    if args.panel < 16:
        parser.error(f'--panel must be >= 16 pixels, got {args.panel}')
    if (args.clutter is not None or args.capture is not None) and not args.cluttered:
        parser.error('--clutter and --capture need --cluttered')
    if args.capture is not None and args.capture < 1:
        parser.error(f'--capture must be >= 1 images, got {args.capture}')
    from famt_benchmarks.accuracy_for_time import VARIANTS, parse_overrides

    if args.variant is not None and args.variant not in VARIANTS:
        parser.error(f'--variant: unknown variant {args.variant!r}; known variants: {", ".join(VARIANTS)}')
    try:
        args.generator_options = parse_overrides(args.generator_options)
    except ValueError as e:
        parser.error(f'--generator-options: {e}')
    return args


def check_file(option: str, path: str, kind: str) -> None:
    """InputError unless ``path`` is an existing file."""
    if osp.isdir(path):
        raise InputError(f'{option}: {path} is a directory, not {kind}')
    if not osp.isfile(path):
        raise InputError(f'{option}: no such file {path} (expected {kind})')


def check_out_dir(path: str) -> None:
    """InputError unless ``path`` is a directory or can be made one (nothing on its way is a file)."""
    existing = osp.abspath(path)
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        where = path if existing == osp.abspath(path) else f'{path} (its parent {existing})'
        raise InputError(
            f'--out-dir: {where} is a file, not a directory; give the folder the figures '
            'go to (made if missing)'
        )


def chosen_variant(args):
    """The variant to draw (registry entry, then ``--generator-options``) and a short name for
    captions and file names, or ``(None, None)``."""
    from famt_benchmarks.accuracy_for_time import VARIANTS, Variant

    if args.variant is None and not args.generator_options:
        return None, None
    base = VARIANTS[args.variant] if args.variant else Variant('', {})
    options = ' '.join(f'{k}={v}' for k, v in args.generator_options.items())
    # the registry's label alone, or the variant's name and the options (labels get long)
    label = ' '.join(p for p in (args.variant, options) if p) if options else base.label
    tag = re.sub(r'[^A-Za-z0-9_.-]+', '-', label if options else args.variant).strip('-')
    return Variant(label, {**base.generator, **args.generator_options}), tag


def fit_caption(text: str, panel: int) -> str:
    """``text`` cut (ending '..') to fit one panel's width in the figures' caption font."""
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.38  # as famt_mm.visualization.compose_grid writes
    while len(text) > 3 and cv2.getTextSize(text, font, scale, 1)[0][0] > panel:
        text = text[:-3].rstrip() + '..'
    return text


def scoring_pipeline(cfg) -> list:
    """The refresh hook's pipeline, as the config states it or as the hook derives it from the training
    crop, without its loading step (we pass arrays)."""
    from famt_mm.engine.checks import configured_scoring_pipeline

    try:
        pipeline = configured_scoring_pipeline(cfg)
    except ValueError as error:
        raise InputError(f'{cfg.filename}: {error}') from error
    return [t for t in pipeline if t['type'] != 'LoadImageFromFile']


def load_images(args) -> List[tuple]:
    """(name, HxWx3 uint8 array) pairs: files as OpenCV reads them (BGR), digits as stored."""
    if args.images:
        import mmcv

        named = []
        for path in args.images:
            check_file('--images', path, 'an image')
            try:
                img = mmcv.imread(path, channel_order='bgr')
            except Exception:  # some backends raise where OpenCV returns None
                img = None
            if img is None or img.ndim != 3:
                raise InputError(
                    f'--images: {path} is not an image (OpenCV cannot decode it as a '
                    'colour image; give PNG, JPEG, BMP, ... files)'
                )
            named.append((osp.splitext(osp.basename(path))[0], img))
        return named
    if args.cluttered:
        dataset = cluttered_test_set(args)
        for index in args.cluttered:
            if not 0 <= index < len(dataset):
                raise InputError(
                    f'--cluttered: index {index} outside the held-out split of '
                    f'{len(dataset)} images (0..{len(dataset) - 1})'
                )
        return [
            (f'cluttered-{dataset.clutter}{index}', dataset.get_data_info(index)['img'])
            for index in args.cluttered
        ]
    from famt_mm.datasets import SklearnDigits

    dataset = SklearnDigits(split='test', lazy_init=False)
    for index in args.digits:
        if not 0 <= index < len(dataset):
            raise InputError(
                f'--digits: index {index} outside the held-out split of '
                f'{len(dataset)} images (0..{len(dataset) - 1})'
            )
    return [(f'digit{index}', dataset.get_data_info(index)['img']) for index in args.digits]


def cluttered_test_set(args):
    """The cluttered digits' held-out split at ``args.clutter`` (else the config's level)."""
    from famt_mm.datasets import FAMTClutteredDigits

    return FAMTClutteredDigits(
        split='test', clutter=args.clutter or getattr(args, 'config_clutter', None) or 'photo'
    )


@torch.no_grad()
def measure_capture(args, model, pipeline) -> str:
    """Mean ROC-AUC and lift of each map (AMT, FAMT, frequency, the generator's own) over the first
    ``args.capture`` held-out cluttered images; printed and written to ``capture.json``."""
    import json

    from mmengine.dataset import default_collate

    from famt_mm.core import OBJECT_THRESHOLD, object_auc, object_lift, object_patches, patch_coverage
    from famt_mm.visualization import importance_maps

    dataset = cluttered_test_set(args)
    count = min(args.capture, len(dataset))
    sums = {}
    for start in range(0, count, 250):
        ids = list(range(start, min(count, start + 250)))
        batch = default_collate(
            [
                pipeline(
                    dict(
                        img=dataset.get_data_info(i)['img'],
                        sample_idx=i,
                        img_shape=(dataset.canvas,) * 2,
                        ori_shape=(dataset.canvas,) * 2,
                    )
                )
                for i in ids
            ]
        )
        inputs = model.data_preprocessor(batch, training=False)['inputs']
        maps = importance_maps(model, inputs)
        masks = torch.from_numpy(dataset.object_masks()[ids])
        for name, values in maps.items():
            if values is None:
                continue
            objects = object_patches(patch_coverage(masks, tuple(values.shape[1:])), OBJECT_THRESHOLD)
            for key, measure in (('auc', object_auc), ('lift', object_lift)):
                result = measure(values.float().cpu(), objects)
                total = sums.setdefault(name, {}).setdefault(key, [0.0, 0])
                total[0] += float(result[~torch.isnan(result)].sum())
                total[1] += int((~torch.isnan(result)).sum())
    capture = {
        name: {key: total / max(n, 1) for key, (total, n) in values.items()} for name, values in sums.items()
    }
    result = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        clutter=dataset.clutter,
        images=count,
        threshold=OBJECT_THRESHOLD,
        maps=capture,
    )
    path = osp.join(args.out_dir, 'capture.json')
    with open(path, 'w') as f:
        json.dump(result, f, indent=2)
    for name, values in capture.items():
        print(f'{name}: ROC-AUC {values["auc"]:.3f}, lift {values["lift"]:.2f} over {count} images')
    return path


def load_model_state(model: torch.nn.Module, checkpoint: str, config: str) -> None:
    """Load ``checkpoint`` strictly; InputError, naming it, unless it is a checkpoint of the model."""
    from famt_mm.checkpoint import CheckpointFileError, key_coverage, read_checkpoint, unwrap_state_dict

    check_file('--checkpoint', checkpoint, 'a checkpoint')
    try:
        state_dict, _ = unwrap_state_dict(read_checkpoint(checkpoint), checkpoint)
    except CheckpointFileError as error:
        raise InputError(f'--checkpoint: {error}') from error
    report = key_coverage(state_dict, model.state_dict(), target=type(model).__name__)
    if not report.ok:
        raise InputError(
            f'--checkpoint: {checkpoint} is not a checkpoint of {config}: '
            + '; '.join(report.problems())
            + '. Give a checkpoint written by training this config.'
        )
    model.load_state_dict(state_dict)


def build_model(cfg, checkpoint: Optional[str], device: torch.device, seed: int):
    from mmpretrain.registry import MODELS

    model_cfg = cfg.model.to_dict()
    if 'data_preprocessor' not in model_cfg:
        model_cfg['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    if checkpoint:
        load_model_state(model, checkpoint, cfg.filename)
    else:
        model.init_weights()
    return model.to(device).eval()


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.dataset import Compose, default_collate
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope

    import famt_mm  # noqa: F401  (registers the FAMT modules)
    from famt_mm.visualization import famt_figures, save_png

    # a fresh WARNING-level logger becomes mmengine's current one: quiet init_weights reports
    MMLogger.get_instance(f'famt_visualize_{time.time_ns()}', log_level='WARNING')
    check_file('config', args.config, 'a config file')
    check_out_dir(args.out_dir)
    if args.digits is not None or args.cluttered is not None:
        option = '--digits' if args.digits is not None else '--cluttered'
        try:
            import sklearn.datasets  # noqa: F401  (the digits ship inside scikit-learn)
        except ImportError as error:
            raise InputError(
                f'{option}: the digits come with scikit-learn, which cannot be imported '
                f'here ({error}); install famt_mm\'s demo extra (pip install -e ".[demo]") '
                'or give --images'
            ) from error
    if args.checkpoint:
        check_file('--checkpoint', args.checkpoint, 'a checkpoint')
    try:
        cfg = Config.fromfile(args.config)
    except Exception as error:  # syntax errors, unknown suffixes, missing bases
        raise InputError(f'{args.config} is not a config mmengine can read ({error})') from error
    cfg.merge_from_dict(args.cfg_options)
    train_set = cfg.get('train_dataloader', {}).get('dataset', {})
    if train_set.get('type') == 'FAMTClutteredDigits':
        args.config_clutter = train_set.get('clutter')
    named = load_images(args)  # every input checked before anything is built or written
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    pipeline = Compose(scoring_pipeline(cfg))  # before a random variant drops the refresh hook
    variant, tag = chosen_variant(args)
    if variant is not None:
        print(f'mask generator: {variant.label} -> {variant.generator}')
        from famt_benchmarks.accuracy_for_time import apply_variant

        option = '--generator-options' if args.generator_options else '--variant'
        try:
            apply_variant(cfg, variant)  # the generator's own checks name a bad setting
        except (ValueError, TypeError, KeyError) as error:
            raise InputError(f'{option}: {error}') from error
    device = torch.device(args.device)
    try:
        model = build_model(cfg, args.checkpoint, device, args.seed)
    except (ValueError, TypeError) as error:
        if variant is None or isinstance(error, InputError):
            raise
        # the model's own checks of the varied generator (e.g. throwing where the model cannot)
        raise InputError(
            f'{option}: the model refuses the mask generator {variant.generator} ({error})'
        ) from error
    batch = default_collate(
        [
            pipeline(dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], sample_idx=i))
            for i, (_, img) in enumerate(named)
        ]
    )
    inputs = model.data_preprocessor(batch, training=False)['inputs']
    objects = {}
    if args.cluttered:  # the digit's box and patches, in the scored image's coordinates
        from famt_mm.core import OBJECT_THRESHOLD, object_patches, patch_coverage

        dataset = cluttered_test_set(args)
        scale = inputs.shape[-1] / dataset.canvas
        masks = torch.from_numpy(dataset.object_masks()[args.cluttered])
        grid = model.data_preprocessor.patch_grid(inputs)
        objects = dict(
            boxes=dataset.object_boxes()[args.cluttered] * scale,
            bgr=False,
            objects=object_patches(patch_coverage(masks, grid), OBJECT_THRESHOLD),
        )
    figures = famt_figures(
        model,
        inputs,
        panel=args.panel,
        seed=args.seed,
        label=fit_caption(variant.label, args.panel) if variant else None,
        **objects,
    )
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    if args.capture:
        written.append(measure_capture(args, model, pipeline))
    for (name, _), figure in zip(named, figures):
        for kind, grid in figure.items():
            if grid is not None:
                stem = f'{name}_{tag}' if tag else name  # variants side by side in one folder
                path = osp.join(args.out_dir, f'{stem}_{kind}.png')
                save_png(path, grid)
                written.append(path)
                print(f'{path}: {grid.shape[1]}x{grid.shape[0]}')
    return written


def cli(argv: Optional[List[str]] = None) -> int:
    """``main`` with the exit status: 1, and a message naming the file, on an unusable input."""
    from famt_mm.utils.cli import run_cli  # famt_mm loads on use, as in main

    return run_cli(main, argv, InputError, 'visualize')


if __name__ == '__main__':
    sys.exit(cli())
