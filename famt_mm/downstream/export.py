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
import pickle
from dataclasses import dataclass
from typing import Dict, List, Optional, Union

import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.utils import import_modules_from_strings

from ..utils.checkpoint import load_mmengine_checkpoint
from ..version import __version__
from .keys import (KeyReport, TargetSpec, compare, convert, target_spec, unwrap_state_dict,
                   vit_backbone_state)


class ExportError(ValueError):
    """The checkpoint cannot initialise the target backbone; the message says why."""


@dataclass
class ExportResult:
    """What :func:`export_backbone` wrote and why it is complete."""
    out: str
    report: KeyReport
    ignored: List[str]  # key groups and top-level entries of the source left out
    verified: int  # tensors compared by value after loading through the target's own loader


def load_config(config: Union[str, Config], cfg_options: Optional[dict] = None) -> Config:
    """The target config (path or Config) with ``cfg_options`` merged and its custom imports done."""
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    return cfg


def build_target_backbone(cfg: Config, checkpoint: Optional[str] = None) -> torch.nn.Module:
    """``cfg.model.backbone`` without pretrained weights, or initialised from ``checkpoint``."""
    backbone_cfg = copy.deepcopy(cfg.model.backbone)
    backbone_cfg.pop('pretrained', None)
    backbone_cfg['init_cfg'] = None if checkpoint is None else dict(type='Pretrained',
                                                                    checkpoint=checkpoint)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        backbone = MODELS.build(backbone_cfg)
    if checkpoint is not None:
        backbone.init_weights()
    return backbone


def export_backbone(src: str, config: Union[str, Config], out: str,
                    cfg_options: Optional[dict] = None) -> ExportResult:
    """Export ``src``'s ViT backbone for the config's target (its ``default_scope``) to ``out``.

    Args:
        src: pretraining checkpoint (famt_mm / mmpretrain: MAE, FAMT-MAE, SimMIM with a ViT, or a
            VisionTransformer classifier).
        config: the downstream config (path or Config) whose ``model.backbone`` is the target.
        out: output path of the backbone checkpoint.
        cfg_options: overrides merged into the config first.
    """
    cfg = load_config(config, cfg_options)
    try:
        spec = target_spec(cfg.get('default_scope'))
        checkpoint = load_mmengine_checkpoint(src)
        state_dict, top_level = unwrap_state_dict(checkpoint)
        backbone, groups = vit_backbone_state(state_dict)
    except (ValueError, OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise ExportError(f'{src}: {error}') from error  # also torch.load of what is no checkpoint
    exported = convert(backbone, spec)
    report = compare(exported, build_target_backbone(cfg).state_dict(), spec)
    if not report.ok:
        raise ExportError(f'{src} cannot initialise the {spec.name} backbone of the config: '
                          + '; '.join(report.problems()) + f'\n{report.summary()}')
    kept = {k: exported[k].clone() for k in report.matched + report.resized}
    meta = dict(source=osp.abspath(src), target=spec.name, famt_mm_version=__version__,
                dropped=list(report.dropped), not_pretrained=list(report.not_pretrained))
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save({spec.container: kept, 'meta': meta}, out)
    try:
        verified = verify_loaded(kept, build_target_backbone(cfg, checkpoint=out).state_dict(),
                                 report, spec)
    except BaseException:
        os.remove(out)
        raise
    return ExportResult(out=out, report=report, ignored=groups + top_level, verified=verified)


def verify_loaded(exported: Dict[str, torch.Tensor], loaded: Dict[str, torch.Tensor],
                  report: KeyReport, spec: TargetSpec) -> int:
    """Compare the target's loaded tensors with the exported ones; ExportError on any difference.

    Matched tensors must be equal; resized position embeddings must keep their extra tokens and equal
    mmpretrain's bicubic resize of the exported grid; not-pretrained weights must sit at their neutral
    value. Returns the number of tensors compared.
    """
    from mmpretrain.models.utils import resize_pos_embed
    differ = [k for k in report.matched if not torch.equal(loaded[k], exported[k])]
    for key in report.resized:
        source, target = exported[key], loaded[key]
        src_side = round((source.shape[1] - 1)**0.5)
        dst_side = round((target.shape[1] - 1)**0.5)
        expected = resize_pos_embed(source, (src_side, ) * 2, (dst_side, ) * 2, 'bicubic', 1)
        if not torch.allclose(target, expected, atol=1e-5):
            differ.append(key)
    for key in report.not_pretrained:
        rule = spec.not_pretrained_rule(key)
        if rule.value is not None and not bool((loaded[key] == rule.value).all()):
            differ.append(key)
    if differ:
        raise ExportError(f"after loading through the {spec.name} backbone's own loader, "
                          f'{len(differ)} tensors differ from the exported ones: '
                          f'{", ".join(differ[:8])}. The config does not load this file as expected.')
    return len(report.matched) + len(report.resized) + len(report.not_pretrained)
