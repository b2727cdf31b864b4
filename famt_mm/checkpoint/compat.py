"""Make mmengine's own checkpoints load on torch >= 2.6 without switching the safety check off.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only`` (mmengine#1655). Since torch 2.6 that means
``weights_only=True``, which refuses the non-tensor metadata mmengine writes into every checkpoint: the
message hub's ``HistoryBuffer`` objects, which hold numpy arrays and pickle their statistics methods as
``getattr(HistoryBuffer, 'mean')``. Rather than unpickle checkpoints without any check, exactly those
types are allow-listed, and ``getattr`` only in a form restricted to HistoryBuffer's statistics methods.
"""

import pickle

import numpy as np
import torch


def _numpy_globals() -> list:
    """numpy's array, dtype and scalar pickling helpers, under numpy 1.x's and 2.x's module names."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    safe = [np.ndarray, np.dtype]
    for scalar_type in (
        np.float16,
        np.float32,
        np.float64,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.bool_,
    ):
        safe.extend([type(np.dtype(scalar_type)), scalar_type])
    for name in ('_reconstruct', 'scalar'):
        function = getattr(multiarray, name)
        safe.extend(
            [(function, f'numpy.core.multiarray.{name}'), (function, f'numpy._core.multiarray.{name}')]
        )
    return safe


def _history_buffer_getattr(owner, name: str):
    """Stands in for ``builtins.getattr`` during a weights-only load: HistoryBuffer methods only."""
    from mmengine.logging import HistoryBuffer

    if owner is HistoryBuffer and not name.startswith('_') and callable(HistoryBuffer.__dict__.get(name)):
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'the checkpoint asks for getattr({owner!r}, {name!r}); only HistoryBuffer statistics '
        f'methods are allowed. Load it with torch.load(..., weights_only=False) if you trust it.'
    )


def allow_mmengine_checkpoints() -> bool:
    """Allow-list the types of mmengine checkpoints for ``torch.load(weights_only=True)``.

    Returns whether it did: torch < 2.4 has no allow-list (and does not check by default)."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return False
    from mmengine.logging import HistoryBuffer

    add_safe_globals([HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'), *_numpy_globals()])
    return True


#: whether ``torch.load(weights_only=True)`` can read mmengine checkpoints: only with the allow-list
#: above, which needs ``torch.serialization.add_safe_globals`` (torch >= 2.4)
CHECKPOINT_WEIGHTS_ONLY = hasattr(torch.serialization, 'add_safe_globals')


def load_mmengine_checkpoint(path, map_location='cpu', **kwargs):
    """``torch.load`` of an mmengine checkpoint with the weights-only check on wherever torch can keep it
    on (torch >= 2.4, with the allow-list above). Older torch cannot read mmengine's metadata that way;
    there it loads as torch itself and mmengine's own resume do by default (``weights_only=False``)."""
    return torch.load(path, map_location=map_location, weights_only=CHECKPOINT_WEIGHTS_ONLY, **kwargs)
