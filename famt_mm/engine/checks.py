"""Checks the refresh hook makes before the first step, each naming its remedy; and epoch wording."""
from typing import Optional

import torch


def train_log_epoch(epoch: int) -> str:
    """Words for the epoch that follows ``epoch`` completed epochs (``runner.epoch``), numbered as
    mmengine's train log numbers it (``Epoch(train) [N]`` is 1-based)."""
    return f'epoch {epoch + 1} (1-based, as the train log)'


def check_view_metainfo(metainfo: dict) -> None:
    """Raise ValueError unless a packed training sample carries what guided masking reads.

    Args:
        metainfo (dict): the metainfo of the training pipeline's packed data sample.
    """
    if metainfo.get('crop_box') is None:
        raise ValueError(
            'the training pipeline records no crop_box, which guided masking needs to warp each '
            "image's map to its view: use dict(type='RandomResizedCropWithBox', ...) instead of "
            "RandomResizedCrop, and pack with dict(type='PackFAMTInputs') (or keep 'crop_box' in "
            'PackInputs(meta_keys=...))')
    if metainfo.get('sample_idx') is None:
        raise ValueError(
            'the training pipeline packs no sample_idx, by which guided masking finds each '
            "image's map: use an mmengine BaseDataset and pack with dict(type='PackFAMTInputs')")


def check_scoring_size(train_inputs: Optional[torch.Tensor],
                       score_inputs: Optional[torch.Tensor]) -> Optional[str]:
    """A warning if the scoring pipeline's images differ in size from the training views.

    Maps are scored on whole images at the training input size (the views' patch grid); another
    size scores with another patch grid and positional scale than training sees.

    Args:
        train_inputs: (C, H, W) input of the training pipeline's first sample.
        score_inputs: (C, h, w) input of the scoring pipeline's first sample.

    Returns:
        The warning, or ``None`` when the sizes agree (or either input is not an image tensor).
    """
    if not (isinstance(train_inputs, torch.Tensor) and isinstance(score_inputs, torch.Tensor)):
        return None
    train_size, score_size = tuple(train_inputs.shape[-2:]), tuple(score_inputs.shape[-2:])
    if train_size == score_size:
        return None
    height, width = train_size
    return (f'the refresh pipeline gives {score_size[0]}x{score_size[1]} images but the training '
            f'views are {height}x{width}: maps are meant to be scored on the whole image at the '
            f"training size; resize it with dict(type='Resize', scale=({width}, {height})) "
            '(scale is width, height) in FAMTRefreshHook(pipeline=...)')
