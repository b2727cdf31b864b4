"""Backbone keys of mmpretrain ViT pretraining checkpoints, renamed for mmdet's and mmseg's ViTs.

Pure PyTorch. mmdet's ViTDet-style ViT reads ``checkpoint['model']`` with its own key names; mmseg's
``MAE`` backbone reads ``checkpoint['state_dict']`` with mmpretrain's names and no prefix. A target's
:class:`TargetSpec` holds its renames and its :class:`~famt_mm.checkpoint.coverage.KeyRules`: the weights
a plain pretrained ViT cannot provide by design (relative position tables, layer scales) and the value
they must start at so that the pretrained computation is unchanged.
"""

import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Tuple

import torch
from mmengine.logging import print_log

from .coverage import KeyReport, KeyRules, NotPretrained, Renames, key_coverage
from .loading import read_checkpoint, unwrap_state_dict

#: every key of an mmpretrain VisionTransformer-family backbone (VisionTransformer, MAEViT, FAMTMAEViT,
#: MILAN's and MaskFeat's ViTs, a SimMIM ViT with its mask token), without the ``backbone.`` prefix
VIT_KEY = re.compile(
    r'^(cls_token|pos_embed|mask_token'
    r'|patch_embed\.projection\.(weight|bias)'
    r'|ln1\.(weight|bias)'
    r'|layers\.\d+\.(ln1|ln2|attn\.qkv|attn\.proj|ffn\.layers\.0\.0|ffn\.layers\.1)'
    r'\.(weight|bias))$'
)
#: backbone keys used only in pretraining and left out of exports: MFF's fusion of the blocks' outputs
#: (``MFFViT.proj_layers`` / ``proj_weights``, which feed the decoder; fine-tuning uses the plain ViT)
PRETRAINING_ONLY_KEY = re.compile(r'^(proj_weights|proj_layers\.\d+\.(weight|bias))$')
#: keys a pretraining backbone must have to be usable downstream
REQUIRED_KEYS = ('pos_embed', 'patch_embed.projection.weight', 'layers.0.attn.qkv.weight')

#: what the transfer configs take, said by every refusal of another backbone
TRANSFER_SOURCES = (
    "The transfer configs (configs/famt/downstream: Mask R-CNN with a plain ViT, UperNet with mmseg's "
    'MAE ViT) take an mmpretrain VisionTransformer-family backbone: FAMT-MAE, MAE, MFF, MILAN, MaskFeat '
    'or SimMIM-ViT pretraining checkpoints, or a ViT classifier; not BEiT-style ViTs (layer scale, q/v '
    'biases, relative position bias: BEiT, BEiT v2, CAE), not Swin (SimMIM-Swin), not CNNs (A2MIM, '
    'SparK).'
)

#: backbone kinds the transfer configs do not take, told apart by key names no other kind has
#: (``backbone.`` stripped): (kind, description, pattern)
OTHER_BACKBONES = (
    (
        'swin',
        'a Swin Transformer backbone (SimMIM-Swin)',
        re.compile(r'^stages\.\d+\.blocks\.\d+\.attn\.w_msa\.'),
    ),
    (
        'beit',
        'a BEiT-style ViT backbone (layer scale, q/v biases or relative position bias: BEiT, BEiT v2, CAE)',
        re.compile(
            r'^layers\.\d+\.(gamma_[12]$|attn\.(q_bias|v_bias|relative_position_)'
            r')|^rel_pos_bias\.'
        ),
    ),
    (
        'convnext',
        'a ConvNeXt backbone (a CNN: SparK)',
        re.compile(r'^downsample_layers\.\d+\.|^stages\.\d+\.\d+\.depthwise_conv\.'),
    ),
    ('resnet', 'a ResNet backbone (a CNN: A2MIM, SparK)', re.compile(r'^(conv1|bn1|stem\.\d+)\.|^layer\d\.')),
)

OTHER_KINDS = tuple(kind for kind, _, _ in OTHER_BACKBONES)


def backbone_kind(keys) -> str:
    """The kind of backbone whose keys (``backbone.`` stripped) these are: ``'vit'`` (mmpretrain's
    VisionTransformer family, what the transfer configs take), ``'vitdet'`` (ViTDet / timm names:
    an exported mmdet backbone or MAE's official weights), one of :data:`OTHER_BACKBONES`, or
    ``'unknown'``."""
    keys = list(keys)
    for kind, _, pattern in OTHER_BACKBONES:
        if any(pattern.search(k) for k in keys):
            return kind
    if keys and all(VIT_KEY.match(k) or PRETRAINING_ONLY_KEY.match(k) for k in keys):
        return 'vit'
    if any(k.startswith('blocks.') for k in keys):
        return 'vitdet'
    return 'unknown'


def other_backbone_error(kind: str, keys) -> str:
    """The refusal of a backbone of ``kind`` (one of :data:`OTHER_BACKBONES`), with keys that show it."""
    description, pattern = next((d, p) for k, d, p in OTHER_BACKBONES if k == kind)
    shown = ', '.join(sorted(k for k in keys if pattern.search(k))[:3])
    return (
        f'it holds {description}, e.g. {shown}. {TRANSFER_SOURCES} Exporting cannot turn it into a '
        "ViT: fine-tune it with a config built for that backbone (e.g. mmpretrain's benchmark "
        'configs of its algorithm)'
    )


@dataclass(frozen=True)
class TargetSpec:
    """How an mmpretrain ViT backbone state dict becomes the state dict of a downstream backbone.

    Args:
        name: 'mmdet' or 'mmseg' (the config's ``default_scope``).
        container: top-level entry of the exported checkpoint that the target's loader reads.
        renames: ``re.sub`` pairs applied in order to each source key.
        rules: what the target tolerates (dropped source keys, not-pretrained target weights, the
            position embedding its loader resizes).
    """

    name: str
    container: str
    renames: Renames = ()
    rules: KeyRules = KeyRules()


_FINAL_NORM = ('ln1.weight', 'ln1.bias')  # the encoder's final norm: detectors and UperNet read
_MASK_TOKEN = ('mask_token',)  # earlier blocks' features; SimMIM's mask token is pretraining-only

#: mmpretrain -> the ViTDet-style :class:`~famt_mm.downstream.det.FAMTPlainViT` (the keys of mmdet's
#: projects/ViTDet ``ViT``, whose loader reads ``checkpoint['model']`` only)
VITDET_RENAMES: Renames = (
    (r'^patch_embed\.projection\.', 'patch_embed.proj.'),
    (r'^layers\.(\d+)\.ln1\.', r'blocks.\1.norm1.'),
    (r'^layers\.(\d+)\.ln2\.', r'blocks.\1.norm2.'),
    (r'^layers\.(\d+)\.ffn\.layers\.0\.0\.', r'blocks.\1.mlp.fc1.'),
    (r'^layers\.(\d+)\.ffn\.layers\.1\.', r'blocks.\1.mlp.fc2.'),
    (r'^layers\.(\d+)\.attn\.', r'blocks.\1.attn.'),
)

MMDET = TargetSpec(
    name='mmdet',
    container='model',
    renames=VITDET_RENAMES,
    rules=KeyRules(
        droppable=('cls_token',) + _FINAL_NORM + _MASK_TOKEN,  # the detector has no CLS token
        not_pretrained=(
            NotPretrained(
                r'\.attn\.rel_pos_[hw]$', 0.0, 'relative position tables, zero-initialised as in ViTDet'
            ),
        ),
    ),
)

#: mmpretrain -> mmseg's ``MAE`` backbone (a BEiT with MAE's initialisation): the same key names once
#: ``backbone.`` is stripped
MMSEG = TargetSpec(
    name='mmseg',
    container='state_dict',
    rules=KeyRules(
        droppable=_FINAL_NORM + _MASK_TOKEN,
        not_pretrained=(
            NotPretrained(
                r'\.gamma_[12]$',
                1.0,
                'layer scale, absent from a plain ViT: must start at 1 (init_values=1.0) so '
                'the pretrained blocks compute what they learned',
            ),
            NotPretrained(
                r'\.attn\.relative_position_bias_table$',
                0.0,
                'relative position bias, zero-initialised as in MAE',
            ),
            NotPretrained(r'\.attn\.relative_position_index$', None, 'index buffer, computed'),
        ),
        resizable=('pos_embed',),
    ),  # MAE.init_weights interpolates it to the input size
)

TARGETS: Dict[str, TargetSpec] = {spec.name: spec for spec in (MMDET, MMSEG)}


def target_spec(name: str) -> TargetSpec:
    """The spec of ``name`` ('mmdet' or 'mmseg'); ValueError otherwise."""
    if name not in TARGETS:
        raise ValueError(
            f"target must be one of {sorted(TARGETS)} (the config's default_scope), got {name!r}"
        )
    return TARGETS[name]


def vit_backbone_state(state_dict: Mapping[str, torch.Tensor]) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """The ViT backbone's tensors (``backbone.`` stripped) and the other key groups left aside.

    Accepts a whole-model state dict (keys ``backbone.*``, ``neck.*``, ``head.*``, ...) or a bare
    backbone state dict. MFF's fusion layers (:data:`PRETRAINING_ONLY_KEY`) are left aside too. Raises
    ValueError, naming the backbone kind (:func:`backbone_kind`) or the offending keys, unless every
    backbone key is one of an mmpretrain VisionTransformer-family backbone (see :data:`VIT_KEY`).
    """
    tensors = {k: v for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
    if any(k.startswith('backbone.') for k in tensors):
        backbone = {k[len('backbone.') :]: v for k, v in tensors.items() if k.startswith('backbone.')}
        ignored = sorted({k.split('.')[0] + '.*' for k in tensors if not k.startswith('backbone.')})
    else:
        backbone, ignored = dict(tensors), []
    if not backbone:
        raise ValueError('the checkpoint holds no tensors: not a pretraining checkpoint')
    kind = backbone_kind(backbone)
    if kind in OTHER_KINDS:
        raise ValueError(other_backbone_error(kind, backbone))
    pretraining_only = {k for k in backbone if PRETRAINING_ONLY_KEY.match(k)}
    if pretraining_only:
        backbone = {k: v for k, v in backbone.items() if k not in pretraining_only}
        ignored = sorted(
            ignored
            + sorted({'backbone.' + k.split('.')[0] + ('.*' if '.' in k else '') for k in pretraining_only})
        )
    unknown = [k for k in backbone if not VIT_KEY.match(k)]
    if unknown:
        hint = (
            ' They are ViTDet / timm key names (blocks.N.*): an already exported mmdet backbone, '
            "or MAE's official weights, which the mmdet FAMTPlainViT loads as they are."
            if kind == 'vitdet'
            else ''
        )
        raise ValueError(
            f'{len(unknown)} backbone keys are not those of an mmpretrain VisionTransformer-family '
            f'backbone (VisionTransformer, MAEViT, FAMTMAEViT, a SimMIM ViT), e.g. '
            f'{", ".join(sorted(unknown)[:6])}.{hint} {TRANSFER_SOURCES}'
        )
    absent = [k for k in REQUIRED_KEYS if k not in backbone]
    if absent:
        raise ValueError(f'the backbone lacks {", ".join(absent)}: not a complete ViT backbone')
    return backbone, ignored


def check_loadable(
    state_dict: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], spec: TargetSpec, where: str
) -> KeyReport:
    """Raise ValueError unless ``state_dict`` (target key names) initialises every target weight.

    Used by the downstream backbones' own loaders, so a config pointed at a pretraining checkpoint that
    was never exported fails loudly instead of training from scratch. Tensors the target has no use for
    are tolerated here (the caller logs ``report.unexpected``), so checkpoints in the target's own key
    names, e.g. MAE's official ``mae_pretrain_vit_base.pth`` for the mmdet ViT, load too.
    """
    if any(k.startswith('backbone.') for k in state_dict):
        backbone = [k[len('backbone.') :] for k in state_dict if k.startswith('backbone.')]
        kind = backbone_kind(backbone)
        if kind in OTHER_KINDS:
            raise ValueError(
                f'{where} is a whole-model pretraining checkpoint, and '
                + other_backbone_error(kind, backbone)
            )
        unsure = '' if kind == 'vit' else f' (the export checks its backbone keys). {TRANSFER_SOURCES}'
        raise ValueError(
            f'{where} is a whole-model checkpoint (backbone.* keys), not a {spec.name} '
            f'backbone: export it first with tools/export_backbone.py SRC CONFIG OUT{unsure}'
        )
    report = key_coverage(state_dict, expected, rules=spec.rules, target=spec.name)
    problems = report.problems(unexpected=False)
    if problems:
        kind = backbone_kind(state_dict)
        if kind in OTHER_KINDS:  # a bare backbone state dict of another kind
            raise ValueError(
                f'{where} does not initialise this {spec.name} backbone: '
                + other_backbone_error(kind, state_dict)
            )
        raise ValueError(
            f'{where} does not initialise this {spec.name} backbone: '
            + '; '.join(problems)
            + '. Export the pretraining checkpoint with tools/export_backbone.py.'
        )
    return report


def read_loadable(
    path: str, expected: Mapping[str, torch.Tensor], spec: TargetSpec, setting: str, user: str
) -> Tuple[Dict[str, torch.Tensor], KeyReport]:
    """Read an exported backbone checkpoint and :func:`check_loadable` it; log the tensors left unused.

    Args:
        path (str): The checkpoint file.
        expected (Mapping[str, Tensor]): The target backbone's own state dict.
        spec (TargetSpec): The target (:data:`MMDET` or :data:`MMSEG`).
        setting (str): The config setting that named ``path``, for the error messages.
        user (str): What uses the backbone in the log line, e.g. ``'the detector'``.

    Returns:
        tuple[dict, KeyReport]: The checkpoint's state dict and its key report.
    """
    state_dict, _ = unwrap_state_dict(read_checkpoint(path, setting=setting), path)
    report = check_loadable(state_dict, expected, spec, where=path)
    if report.unexpected:
        print_log(
            f'{path}: ignored {len(report.unexpected)} tensors {user} does not use: '
            f'{", ".join(report.unexpected[:8])}',
            logger='current',
            level=30,
        )
    return state_dict, report
