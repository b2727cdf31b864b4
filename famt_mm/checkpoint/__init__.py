"""Checkpoints in and out of famt_mm: reading them, checking their keys, renaming them.

- ``loading``: read a checkpoint file (``torch.load`` errors become "not a checkpoint", naming the file)
  and find its state dict (``state_dict`` / ``model`` / bare).
- ``coverage``: the one key-coverage check (which keys load, which are missing or unexpected, the
  verdict) behind every loader below.
- ``targets``: the renames from mmpretrain's ViT to mmdet's ViTDet-style ViT and mmseg's MAE backbone,
  used by ``tools/export_backbone.py`` and the downstream backbones (``famt_mm.downstream``).
- ``initializer``: ``FAMTCheckPretrainedKeys``, the init_cfg that refuses a ``Pretrained`` checkpoint not
  covering its module (benchmark configs).
- ``compat``: ``allow_mmengine_checkpoints``, so mmengine's checkpoints load with torch's weights-only
  check on (``import famt_mm`` calls it).

Importing this package needs torch and mmengine, never mmdet, mmseg or mmcv's compiled ops.
"""

from .compat import CHECKPOINT_WEIGHTS_ONLY, allow_mmengine_checkpoints, load_mmengine_checkpoint
from .coverage import KeyReport, KeyRules, NotPretrained, key_coverage, renamed_tensors
from .initializer import FAMTCheckPretrainedKeys, check_state_dict_covers
from .loading import CheckpointFileError, backbone_state_dict, read_checkpoint, unwrap_state_dict
from .targets import (
    MMDET,
    MMSEG,
    TARGETS,
    TRANSFER_SOURCES,
    TargetSpec,
    backbone_kind,
    check_loadable,
    read_loadable,
    target_spec,
    vit_backbone_state,
)

__all__ = [
    'CHECKPOINT_WEIGHTS_ONLY',
    'allow_mmengine_checkpoints',
    'load_mmengine_checkpoint',
    'KeyReport',
    'KeyRules',
    'NotPretrained',
    'key_coverage',
    'renamed_tensors',
    'FAMTCheckPretrainedKeys',
    'check_state_dict_covers',
    'CheckpointFileError',
    'backbone_state_dict',
    'read_checkpoint',
    'unwrap_state_dict',
    'MMDET',
    'MMSEG',
    'TARGETS',
    'TargetSpec',
    'TRANSFER_SOURCES',
    'backbone_kind',
    'check_loadable',
    'read_loadable',
    'target_spec',
    'vit_backbone_state',
]
