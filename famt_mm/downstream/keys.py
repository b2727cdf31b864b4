"""Backbone keys from mmpretrain ViT pretraining checkpoints to mmdet / mmseg ViTs, checked.

Pure PyTorch: no mmengine, no registries. mmdet's and mmseg's ViT loaders are non-strict, so a checkpoint
with the wrong key names loads nothing and says nothing; here every key of the target backbone must be
matched by a pretrained tensor of the same shape, or be on the target's explicit list of weights that a
plain pretrained ViT cannot provide by design (relative position tables, layer scales), which must then
start at the neutral value that leaves the pretrained computation unchanged.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch

#: every key of an mmpretrain VisionTransformer-family backbone (VisionTransformer, MAEViT, FAMTMAEViT,
#: a SimMIM ViT with its mask token), without the ``backbone.`` prefix
VIT_KEY = re.compile(r'^(cls_token|pos_embed|mask_token'
                     r'|patch_embed\.projection\.(weight|bias)'
                     r'|ln1\.(weight|bias)'
                     r'|layers\.\d+\.(ln1|ln2|attn\.qkv|attn\.proj|ffn\.layers\.0\.0|ffn\.layers\.1)'
                     r'\.(weight|bias))$')
#: keys a pretraining backbone must have to be usable downstream
REQUIRED_KEYS = ('pos_embed', 'patch_embed.projection.weight', 'layers.0.attn.qkv.weight')


@dataclass(frozen=True)
class NotPretrained:
    """Target weights no plain pretrained ViT provides: a key pattern and the value they must start at.

    Args:
        pattern: regular expression matched (``re.search``) against target keys.
        value: every element must equal this at initialisation; None for computed buffers.
        why: the reason, shown in reports and errors.
    """
    pattern: str
    value: Optional[float]
    why: str


@dataclass(frozen=True)
class TargetSpec:
    """How an mmpretrain ViT backbone state dict becomes the state dict of a downstream backbone.

    Args:
        name: 'mmdet' or 'mmseg' (the config's ``default_scope``).
        container: top-level entry of the exported checkpoint that the target's loader reads.
        renames: ``re.sub`` pairs applied in order to each source key.
        droppable: source keys the target lacks by design; dropped only when the target has no such key.
        not_pretrained: target weights a pretrained ViT cannot provide (see :class:`NotPretrained`).
        resized_on_load: target keys whose token count the target's own loader adapts (``pos_embed``).
    """
    name: str
    container: str
    renames: Tuple[Tuple[str, str], ...] = ()
    droppable: Tuple[str, ...] = ()
    not_pretrained: Tuple[NotPretrained, ...] = ()
    resized_on_load: Tuple[str, ...] = ()

    def rename(self, key: str) -> str:
        for pattern, replacement in self.renames:
            key = re.sub(pattern, replacement, key)
        return key

    def not_pretrained_rule(self, key: str) -> Optional[NotPretrained]:
        return next((r for r in self.not_pretrained if re.search(r.pattern, key)), None)


_FINAL_NORM = ('ln1.weight', 'ln1.bias')  # the encoder's final norm: detectors and UperNet read
_MASK_TOKEN = ('mask_token', )  # earlier blocks' features; SimMIM's mask token is pretraining-only

#: mmdet: the ViTDet-style :class:`~famt_mm.downstream.det.PlainViT` (same keys as mmdet's
#: projects/ViTDet ViT, whose loader reads ``checkpoint['model']`` only)
MMDET = TargetSpec(
    name='mmdet',
    container='model',
    renames=(
        (r'^patch_embed\.projection\.', 'patch_embed.proj.'),
        (r'^layers\.(\d+)\.ln1\.', r'blocks.\1.norm1.'),
        (r'^layers\.(\d+)\.ln2\.', r'blocks.\1.norm2.'),
        (r'^layers\.(\d+)\.ffn\.layers\.0\.0\.', r'blocks.\1.mlp.fc1.'),
        (r'^layers\.(\d+)\.ffn\.layers\.1\.', r'blocks.\1.mlp.fc2.'),
        (r'^layers\.(\d+)\.attn\.', r'blocks.\1.attn.'),
    ),
    droppable=('cls_token', ) + _FINAL_NORM + _MASK_TOKEN,  # the detector runs without a CLS token
    not_pretrained=(NotPretrained(r'\.attn\.rel_pos_[hw]$', 0.0,
                                  'relative position tables, zero-initialised as in ViTDet'), ),
)

#: mmseg: its ``MAE`` backbone (a BEiT with MAE's initialisation; ``state_dict``, no prefix)
MMSEG = TargetSpec(
    name='mmseg',
    container='state_dict',
    droppable=_FINAL_NORM + _MASK_TOKEN,
    not_pretrained=(
        NotPretrained(r'\.gamma_[12]$', 1.0,
                      'layer scale, absent from a plain ViT: must start at 1 (init_values=1.0) so the '
                      'pretrained blocks compute what they learned'),
        NotPretrained(r'\.attn\.relative_position_bias_table$', 0.0,
                      'relative position bias, zero-initialised as in MAE'),
        NotPretrained(r'\.attn\.relative_position_index$', None, 'index buffer, computed'),
    ),
    resized_on_load=('pos_embed', ),  # MAE.init_weights interpolates it to the input size
)

TARGETS: Dict[str, TargetSpec] = {spec.name: spec for spec in (MMDET, MMSEG)}


def target_spec(name: str) -> TargetSpec:
    """The spec of ``name`` ('mmdet' or 'mmseg'); ValueError otherwise."""
    if name not in TARGETS:
        raise ValueError(f"target must be one of {sorted(TARGETS)} (the config's default_scope), "
                         f'got {name!r}')
    return TARGETS[name]


def unwrap_state_dict(checkpoint: Mapping) -> Tuple[Mapping[str, torch.Tensor], List[str]]:
    """The model state dict inside a checkpoint and the names of the top-level entries left aside.

    mmengine checkpoints keep it under ``state_dict`` (next to ``meta``, ``message_hub``, the optimizer
    and famt_mm's ``famt_importance`` cache), MAE's and ViTDet's under ``model``; a bare state dict is
    taken as it is.
    """
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f'expected a checkpoint dict, got {type(checkpoint).__name__}')
    for container in ('state_dict', 'model'):
        if isinstance(checkpoint.get(container), Mapping):
            return checkpoint[container], sorted(k for k in checkpoint if k != container)
    return checkpoint, []


def vit_backbone_state(state_dict: Mapping[str, torch.Tensor]
                       ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """The ViT backbone's tensors (``backbone.`` stripped) and the other key groups left aside.

    Accepts a whole-model state dict (keys ``backbone.*``, ``neck.*``, ``head.*``, ...) or a bare
    backbone state dict. Raises ValueError, naming the offending keys, unless every backbone key is
    one of an mmpretrain VisionTransformer-family backbone (see :data:`VIT_KEY`).
    """
    tensors = {k: v for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
    if any(k.startswith('backbone.') for k in tensors):
        backbone = {k[len('backbone.'):]: v for k, v in tensors.items() if k.startswith('backbone.')}
        ignored = sorted({k.split('.')[0] + '.*' for k in tensors if not k.startswith('backbone.')})
    else:
        backbone, ignored = dict(tensors), []
    if not backbone:
        raise ValueError('the checkpoint holds no tensors: not a pretraining checkpoint')
    unknown = [k for k in backbone if not VIT_KEY.match(k)]
    if unknown:
        hint = (' They are ViTDet / timm key names (blocks.N.*): an already exported mmdet backbone, '
                "or MAE's official weights, which the mmdet PlainViT loads as they are."
                if any(k.startswith('blocks.') for k in unknown) else '')
        raise ValueError(
            f'{len(unknown)} backbone keys are not those of an mmpretrain VisionTransformer-family '
            f'backbone (VisionTransformer, MAEViT, FAMTMAEViT, a SimMIM ViT), e.g. '
            f'{", ".join(sorted(unknown)[:6])}.{hint}')
    absent = [k for k in REQUIRED_KEYS if k not in backbone]
    if absent:
        raise ValueError(f'the backbone lacks {", ".join(absent)}: not a complete ViT backbone')
    return backbone, ignored


def convert(backbone: Mapping[str, torch.Tensor], spec: TargetSpec) -> Dict[str, torch.Tensor]:
    """Rename an mmpretrain ViT backbone state dict to the target's key names (tensors shared)."""
    converted = {}
    for key, value in backbone.items():
        new_key = spec.rename(key)
        if new_key in converted:
            raise ValueError(f'{key} and another key both map to {new_key}')
        converted[new_key] = value
    return converted


def _square_grid(tokens: int, extra: int) -> bool:
    side = round((tokens - extra)**0.5)
    return tokens > extra and side * side == tokens - extra


@dataclass
class KeyReport:
    """Outcome of matching an exported state dict against a target backbone's state dict.

    Keys are the target's. ``missing``, ``unexpected``, ``shape_mismatch`` and ``off_neutral`` are
    problems; the rest is by design.
    """
    target: str
    matched: List[str] = field(default_factory=list)
    resized: List[str] = field(default_factory=list)
    not_pretrained: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shape_mismatch: List[str] = field(default_factory=list)
    off_neutral: List[str] = field(default_factory=list)
    reasons: Dict[str, int] = field(default_factory=dict)  # why not pretrained -> how many keys

    @property
    def ok(self) -> bool:
        return not self.problems()

    def problems(self, unexpected: bool = True) -> List[str]:
        """What is wrong; ``unexpected=False`` tolerates pretrained tensors the target has no use for."""
        found = []
        if self.missing:
            found.append(f'{len(self.missing)} backbone weights would stay uninitialised (missing '
                         f'from the checkpoint): {_listing(self.missing)}')
        if self.unexpected and unexpected:
            found.append(f'{len(self.unexpected)} pretrained weights have no place in the target '
                         f'backbone (unexpected): {_listing(self.unexpected)}')
        if self.shape_mismatch:
            found.append(f'{len(self.shape_mismatch)} shapes differ (checkpoint vs target): '
                         f'{_listing(self.shape_mismatch)}')
        found.extend(self.off_neutral)
        return found

    def summary(self) -> str:
        lines = [f'target {self.target}: {len(self.matched)} matched, {len(self.resized)} resized by '
                 f"the target's loader, {len(self.not_pretrained)} not pretrained by design, "
                 f'{len(self.dropped)} dropped by design, {len(self.missing)} missing, '
                 f'{len(self.unexpected)} unexpected, {len(self.shape_mismatch)} shape mismatches']
        if self.resized:
            lines.append(f"  resized by the target's loader: {_listing(self.resized)}")
        for why, count in self.reasons.items():
            lines.append(f'  not pretrained: {count} x {why}')
        if self.dropped:
            lines.append(f'  dropped: {_listing(self.dropped)}')
        lines.extend(f'  PROBLEM: {p}' for p in self.problems())
        return '\n'.join(lines)


def _listing(keys: Sequence[str], limit: int = 8) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys) - limit} more)' if len(keys) > limit else '')


def compare(exported: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor],
            spec: TargetSpec) -> KeyReport:
    """Match ``exported`` (target key names) against the ``target`` backbone's fresh state dict."""
    report = KeyReport(target=spec.name)
    for key, value in exported.items():
        if key not in target:
            (report.dropped if key in spec.droppable else report.unexpected).append(key)
        elif value.shape == target[key].shape:
            report.matched.append(key)
        elif key in spec.resized_on_load and _resizable(value, target[key], extra=1):
            report.resized.append(key)
        else:
            report.shape_mismatch.append(
                f'{key} {tuple(value.shape)} vs {tuple(target[key].shape)}')
    for key, value in target.items():
        if key in exported:
            continue
        rule = spec.not_pretrained_rule(key)
        if rule is None:
            report.missing.append(key)
            continue
        report.not_pretrained.append(key)
        report.reasons[rule.why] = report.reasons.get(rule.why, 0) + 1
        if rule.value is not None and not bool((value == rule.value).all()):
            report.off_neutral.append(f'{key} does not start at {rule.value:g} ({rule.why})')
    return report


def _resizable(source: torch.Tensor, target: torch.Tensor, extra: int) -> bool:
    """Both (1, extra + square grid, C) position embeddings of the same width."""
    return (source.ndim == target.ndim == 3 and source.shape[-1] == target.shape[-1]
            and _square_grid(source.shape[1], extra) and _square_grid(target.shape[1], extra))


def check_loadable(state_dict: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor],
                   spec: TargetSpec, where: str) -> KeyReport:
    """Raise ValueError unless ``state_dict`` (target key names) initialises every target weight.

    Used by the downstream backbones' own loaders, so a config pointed at a pretraining checkpoint that
    was never exported fails loudly instead of training from scratch. Tensors the target has no use for
    are tolerated here (the caller logs ``report.unexpected``), so checkpoints in the target's own key
    names, e.g. MAE's official ``mae_pretrain_vit_base.pth`` for the mmdet ViT, load too.
    """
    if any(k.startswith('backbone.') for k in state_dict):
        raise ValueError(f'{where} is a whole-model checkpoint (backbone.* keys), not a {spec.name} '
                         'backbone: export it first with tools/export_backbone.py')
    report = compare(state_dict, target, spec)
    problems = report.problems(unexpected=False)
    if problems:
        raise ValueError(f'{where} does not initialise this {spec.name} backbone: '
                         + '; '.join(problems)
                         + '. Export the pretraining checkpoint with tools/export_backbone.py.')
    return report
