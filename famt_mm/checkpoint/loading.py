"""Reading a checkpoint file and finding the state dict inside it, with errors that name the file.

``torch.load`` of a file that is not a checkpoint fails with whatever the unpickler trips over
(``IndexError: pop from empty list``, ``UnpicklingError``, ``EOFError``, ...); :func:`read_checkpoint`
says instead which file is not a checkpoint.
"""

import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from .compat import CHECKPOINT_WEIGHTS_ONLY

#: top-level entries that hold the model's tensors: mmengine's, then MAE's / ViTDet's
CONTAINERS = ('state_dict', 'model')


class CheckpointFileError(ValueError):
    """A checkpoint path that is missing, not a file, not a checkpoint or holds no state dict."""


def read_checkpoint(
    path: str, map_location: str = 'cpu', mmap: bool = False, setting: Optional[str] = None
) -> dict:
    """The checkpoint dict saved at ``path`` (a local file, or a URL mmengine can fetch).

    Local files are read with ``torch.load(weights_only=True)`` (mmengine's own metadata is allowed by
    :func:`~famt_mm.checkpoint.allow_mmengine_checkpoints`); URLs (``https://``, ``s3://``, ...)
    through mmengine's ``CheckpointLoader``.

    Args:
        path: the checkpoint.
        map_location: where tensors go.
        mmap: memory-map the file instead of reading it (to look at metadata only).
        setting: the option or config key ``path`` came from; errors start with it.

    Raises:
        CheckpointFileError: ``path`` is missing, a directory, not a checkpoint, or not a dict.
    """
    try:
        return _read(path, map_location, mmap)
    except CheckpointFileError as error:
        if setting is None:
            raise
        raise CheckpointFileError(f'{setting}: {error}') from error


def _read(path: str, map_location: str, mmap: bool) -> dict:
    if '://' in str(path):
        from mmengine.runner.checkpoint import CheckpointLoader

        checkpoint = CheckpointLoader.load_checkpoint(path, map_location=map_location)
    else:
        if osp.isdir(path):
            raise CheckpointFileError(f'{path} is a directory, not a checkpoint file')
        if not osp.isfile(path):
            raise CheckpointFileError(f'{path}: no such checkpoint file')
        try:
            checkpoint = torch.load(
                path, map_location=map_location, weights_only=CHECKPOINT_WEIGHTS_ONLY, mmap=mmap
            )
        except RuntimeError as error:
            if not (mmap and 'mmap' in str(error)):
                raise _not_a_checkpoint(path, error) from error
            return _read(path, map_location, mmap=False)  # the legacy format cannot be mapped
        except Exception as error:  # the unpickler fails in many ways on what is not a checkpoint
            raise _not_a_checkpoint(path, error) from error
    if not isinstance(checkpoint, Mapping):
        raise CheckpointFileError(
            f'{path} is not a checkpoint: it holds a {type(checkpoint).__name__}, not a dict of tensors'
        )
    return dict(checkpoint)


def _not_a_checkpoint(path: str, error: Exception) -> CheckpointFileError:
    """The error for a file ``torch.load(weights_only=True)`` refused, with torch's reason in brief."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    refused = next((line for line in lines if 'Unsupported global' in line), None)
    if refused is not None:  # a pickle of other objects: possibly a checkpoint of other code
        detail = refused.split('Unsupported global: ')[-1].split('. Please use')[0]
        return CheckpointFileError(
            f'{path} holds objects that torch.load(weights_only=True) refuses ({detail}): not a '
            'checkpoint of tensors and mmengine metadata. If you trust the file, load it with '
            "torch.load(..., weights_only=False) and save its state dict as {'state_dict': ...}"
        )
    reason = next((line for line in lines if line.startswith('Unsupported')), lines[0] if lines else '-')
    return CheckpointFileError(
        f'{path} is not a checkpoint: torch.load cannot read it ({type(error).__name__}: '
        f"{reason[:160]}). Give a file written by torch.save, e.g. an epoch_N.pth of mmengine's Runner"
    )


def unwrap_state_dict(
    checkpoint: Mapping, path: Optional[str] = None, containers: Sequence[str] = CONTAINERS
) -> Tuple[Mapping[str, torch.Tensor], List[str]]:
    """The model state dict inside a checkpoint and the names of the top-level entries left aside.

    mmengine checkpoints keep it under ``state_dict`` (next to ``meta``, ``message_hub``, the optimizer
    and famt_mm's ``famt_importance`` cache), MAE's and ViTDet's under ``model``; a bare state dict is
    taken as it is.

    Args:
        checkpoint: what :func:`read_checkpoint` returned.
        path: the file, for the error message.
        containers: the entries looked for, in order.

    Raises:
        CheckpointFileError: no ``state_dict`` / ``model`` entry and no tensors at the top level.
    """
    where = path or 'the checkpoint'
    if not isinstance(checkpoint, Mapping):
        raise CheckpointFileError(
            f'{where} is not a checkpoint: expected a dict, got {type(checkpoint).__name__}'
        )
    for container in containers:
        if isinstance(checkpoint.get(container), Mapping):
            return checkpoint[container], sorted(k for k in checkpoint if k != container)
    if not any(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise CheckpointFileError(
            f'{where} holds no state dict: no {" or ".join(repr(c) for c in containers)} entry and '
            f'no tensors (top-level entries: {", ".join(map(str, list(checkpoint)[:8])) or "none"})'
        )
    return checkpoint, []


def backbone_state_dict(
    checkpoint: Mapping, prefix: Optional[str], path: Optional[str] = None
) -> Dict[str, torch.Tensor]:
    """The tensors of ``checkpoint`` (its ``state_dict`` or a bare state dict) under ``prefix``, with
    the prefix stripped, as mmengine's ``Pretrained(prefix=...)`` would load them (mmengine looks for
    ``state_dict`` only, not ``model``)."""
    state_dict, _ = unwrap_state_dict(checkpoint, path, containers=('state_dict',))
    if not prefix:
        return dict(state_dict)
    prefix = prefix if prefix.endswith('.') else prefix + '.'
    return {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
