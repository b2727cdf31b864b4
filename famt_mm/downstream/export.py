"""Export a pretraining checkpoint's ViT backbone for an mmdet or mmseg config, checked twice.

1. The backbone tensors are taken from the checkpoint (``backbone.*`` of ``state_dict``; ``neck.*``,
   ``head.*`` and top-level entries such as the ``famt_importance`` cache are left out), renamed for the
   target and matched against the target backbone built from the target config: every target weight
   must get a tensor of its shape, or be on the target's list of weights no plain ViT provides.
2. After writing, the target backbone is built again with ``init_cfg`` pointing at the written file and
   initialised by its own loader, and every loaded tensor is compared with the exported one by value.

Any problem raises :class:`ExportError` and leaves no output file behind.
"""

import copy
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Union

import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.utils import import_modules_from_strings

from ..checkpoint import (
    KeyReport,
    TargetSpec,
    key_coverage,
    read_checkpoint,
    renamed_tensors,
    target_spec,
    unwrap_state_dict,
    vit_backbone_state,
)
from ..version import __version__


class ExportError(ValueError):
    """The checkpoint cannot initialise the target backbone; the message says why."""


@dataclass
class ExportResult:
    """What :func:`export_backbone` wrote and why it is complete."""

    out: str
    report: KeyReport
    ignored: List[str]  # key groups and top-level entries of the source left out
    verified: int  # tensors compared by value after loading through the target's own loader


#: the suffixes of the config files mmengine reads
CONFIG_SUFFIXES = ('.py', '.json', '.yaml', '.yml')
#: per target (default_scope): the distribution that provides it and famt_mm's extra that installs it
STACKS = {'mmdet': ('mmdet', 'det'), 'mmseg': ('mmsegmentation', 'seg')}
MMCV_WITH_OPS = (
    'mmcv with compiled ops (>= 2.0.0rc4, < 2.2.0; mmcv-lite is not enough), e.g. mim install "mmcv==2.1.0"'
)


def missing_package(error: BaseException) -> Optional[str]:
    """'mmdet', 'mmseg' or 'mmcv' when ``error`` says that this package (for mmcv: its compiled ops, or
    a version mmdet / mmseg accept) cannot be imported or is not installed; None otherwise."""
    message = str(error)
    if isinstance(error, AssertionError):  # mmdet's / mmseg's check of the mmcv version
        return 'mmcv' if 'MMCV==' in message else None
    if not isinstance(error, ImportError):
        return None
    # "import of mmdet halted", "No module named 'mmcv._ext'" (name set); mmengine's "mmdet is not
    # installed" for mmdet:: config bases and a broken mmcv/_ext.so (name unset)
    found = (error.name or '').split('.')[0]
    found = found or next((p for p in ('mmcv', 'mmsegmentation', 'mmseg', 'mmdet') if p in message), '')
    found = 'mmseg' if found == 'mmsegmentation' else found
    return found if found in ('mmdet', 'mmseg', 'mmcv') else None


def missing_stack(error: BaseException, config: str, target: Optional[str] = None) -> Optional[ExportError]:
    """The refusal naming what to install when ``error`` or one of its causes says that mmdet, mmseg or
    mmcv's compiled ops are missing (:func:`missing_package`); None for any other error.

    Args:
        error: what reading the config, its ``custom_imports`` or building its backbone raised
            (mmengine's ``Config.fromfile`` re-raises a failed custom import with its own message).
        config: the config file, named in the message.
        target: the config's ``default_scope`` where known, to name the one extra it needs.
    """
    chain = [error]
    while len(chain) < 16 and (chain[-1].__cause__ or chain[-1].__context__) is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    # the innermost error that names a package: the import that actually failed
    culprit, package = next(
        ((e, missing_package(e)) for e in reversed(chain) if missing_package(e)), (None, None)
    )
    if package is None:
        return None
    target = package if package in STACKS else target
    extras = [STACKS[target][1]] if target in STACKS else ['det', 'seg']
    install = ' / '.join(f'pip install -e ".[{extra}]"' for extra in extras)
    if package == 'mmcv':
        needs = 'mmcv with compiled ops'
    else:
        dist = STACKS[package][0]
        needs = f'{package}{"" if dist == package else f" (the {dist} package)"} and mmcv with compiled ops'
    reason = (str(culprit).strip().splitlines() or ['-'])[0]
    return ExportError(
        f'{config} needs {needs}, which cannot be imported here ({type(culprit).__name__}: '
        f"{reason}). Install famt_mm's {' or '.join(extras)} extra ({install}) after "
        f'{MMCV_WITH_OPS}'
    )


def load_config(config: Union[str, Config], cfg_options: Optional[dict] = None) -> Config:
    """The target config (path or Config) with ``cfg_options`` merged and its custom imports done."""
    if isinstance(config, str):
        if not osp.isfile(config):
            raise ExportError(
                f'{config}: no such config file'
                if not osp.isdir(config)
                else f'{config} is a directory, not a config file'
            )
        if not config.endswith(CONFIG_SUFFIXES):
            raise ExportError(
                f'{config} is not a config file: mmengine reads {", ".join(CONFIG_SUFFIXES)} configs, e.g. '
                'configs/famt/downstream/mask-rcnn_vit-b-p16-famt-mae_lsj-100e_coco.py (the arguments '
                'are SRC CONFIG OUT: the pretraining checkpoint, the downstream config, the output file)'
            )
        try:
            cfg = Config.fromfile(config)
        except Exception as error:  # noqa: BLE001  (syntax errors, missing bases, any user code)
            raise missing_stack(error, config) or ExportError(
                f'{config} is not a config mmengine can read ({type(error).__name__}: '
                f'{str(error).strip().splitlines()[0] if str(error).strip() else "-"})'
            ) from error
    else:
        cfg = copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('custom_imports'):
        try:
            import_modules_from_strings(**cfg.custom_imports)
        except (ImportError, AssertionError) as error:
            refusal = missing_stack(
                error, config if isinstance(config, str) else 'the config', cfg.get('default_scope')
            )
            if refusal is None:
                raise
            raise refusal from error
    return cfg


def build_target_backbone(cfg: Config, checkpoint: Optional[str] = None) -> torch.nn.Module:
    """``cfg.model.backbone`` without pretrained weights, or initialised from ``checkpoint``."""
    backbone_cfg = copy.deepcopy(cfg.model.backbone)
    backbone_cfg.pop('pretrained', None)
    backbone_cfg['init_cfg'] = None if checkpoint is None else dict(type='Pretrained', checkpoint=checkpoint)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        backbone = MODELS.build(backbone_cfg)
    if checkpoint is not None:
        backbone.init_weights()
    return backbone


def export_backbone(
    src: str, config: Union[str, Config], out: str, cfg_options: Optional[dict] = None
) -> ExportResult:
    """Export ``src``'s ViT backbone for the config's target (its ``default_scope``) to ``out``.

    Args:
        src: pretraining checkpoint (famt_mm / mmpretrain: MAE, FAMT-MAE, SimMIM with a ViT, or a
            VisionTransformer classifier).
        config: the downstream config (path or Config) whose ``model.backbone`` is the target.
        out: output path of the backbone checkpoint.
        cfg_options: overrides merged into the config first.
    """
    if osp.isdir(out):
        raise ExportError(
            f'{out} is a directory: give the output checkpoint file, e.g. {osp.join(out, "backbone.pth")}'
        )
    try:
        checkpoint = read_checkpoint(src)  # names the file when it is none
        state_dict, top_level = unwrap_state_dict(checkpoint, src)
        backbone, groups = vit_backbone_state(state_dict)
    except ValueError as error:
        raise ExportError(str(error) if src in str(error) else f'{src}: {error}') from error
    cfg = load_config(config, cfg_options)
    name = config if isinstance(config, str) else 'the config'
    try:
        spec = target_spec(cfg.get('default_scope'))
    except ValueError as error:
        raise ExportError(f'{name}: {error}') from error
    if not isinstance(cfg.get('model'), dict) or not isinstance(cfg.model.get('backbone'), dict):
        raise ExportError(
            f'{name} has no model.backbone: give the downstream config whose backbone the export initialises'
        )
    try:
        target = build_target_backbone(cfg)
    except ImportError as error:  # the registry imports mmdet.models / mmseg.models on first use
        refusal = missing_stack(error, name, spec.name)
        if refusal is None:
            raise
        raise refusal from error
    report = key_coverage(backbone, target.state_dict(), spec.renames, spec.rules, target=spec.name)
    if not report.ok:
        raise ExportError(
            f'{src} cannot initialise the {spec.name} backbone of the config: '
            + '; '.join(report.problems())
            + f'\n{report.summary()}'
        )
    kept = {k: v.clone() for k, v in renamed_tensors(backbone, report).items()}
    meta = dict(
        source=osp.abspath(src),
        target=spec.name,
        famt_mm_version=__version__,
        dropped=list(report.dropped),
        not_pretrained=list(report.not_pretrained),
    )
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save({spec.container: kept, 'meta': meta}, out)
    try:
        verified = verify_loaded(kept, build_target_backbone(cfg, checkpoint=out).state_dict(), report, spec)
    except BaseException:
        os.remove(out)
        raise
    return ExportResult(out=out, report=report, ignored=groups + top_level, verified=verified)


def verify_loaded(
    exported: Dict[str, torch.Tensor], loaded: Dict[str, torch.Tensor], report: KeyReport, spec: TargetSpec
) -> int:
    """Compare the target's loaded tensors with the exported ones; ExportError on any difference.

    Matched tensors must be equal; resized position embeddings must keep their extra tokens and equal
    mmpretrain's bicubic resize of the exported grid; not-pretrained weights must sit at their neutral
    value. Returns the number of tensors compared.
    """
    from mmpretrain.models.utils import resize_pos_embed

    differ = [k for k in report.matched if not torch.equal(loaded[k], exported[k])]
    for key in report.resized:
        source, target = exported[key], loaded[key]
        src_side = round((source.shape[1] - 1) ** 0.5)
        dst_side = round((target.shape[1] - 1) ** 0.5)
        expected = resize_pos_embed(source, (src_side,) * 2, (dst_side,) * 2, 'bicubic', 1)
        if not torch.allclose(target, expected, atol=1e-5):
            differ.append(key)
    for key in report.not_pretrained:
        rule = spec.rules.not_pretrained_rule(key)
        if rule.value is not None and not bool((loaded[key] == rule.value).all()):
            differ.append(key)
    if differ:
        raise ExportError(
            f"after loading through the {spec.name} backbone's own loader, "
            f'{len(differ)} tensors differ from the exported ones: '
            f'{", ".join(differ[:8])}. The config does not load this file as expected.'
        )
    return len(report.matched) + len(report.resized) + len(report.not_pretrained)
