"""From patch-grid weights to the mask plan of a batch: the one path every caller takes.

Pure tensor code: no mmengine. The preprocessor (training views), the figures and the benchmark all
draw their plans here, so pooling to masking units, sampling and the expansion back to patches
cannot drift apart between them.
"""

from typing import Optional, Tuple

import torch

from .mask_plan import MaskPlan
from .sampling import sample_plan
from .warp import pool_to_units


def mean_one(maps: torch.Tensor) -> torch.Tensor:
    """Scale each map of a (B, ...) batch to mean 1 over its cells.

    Sampling ignores a map's scale; mean 1 keeps the values in fp16's range when they are stored.
    A map whose mean is zero or not finite turns non-finite here, and sampling then treats it as
    uniform (see :func:`sanitize_weights`).
    """
    means = maps.flatten(1).mean(dim=1)
    return maps / means.reshape(-1, *([1] * (maps.dim() - 1)))


def plan_from_weights(
    weights: Optional[torch.Tensor],
    patch_grid: Tuple[int, int],
    unit: int,
    mask_ratio: float,
    throw_ratio: float,
    batch_size: Optional[int] = None,
    device: Optional[torch.device] = None,
    **sampling,
) -> MaskPlan:
    """Draw one batch's :class:`MaskPlan` on the patch grid from per-patch weights.

    The weights are summed over ``unit x unit`` patch blocks (the masking units), one plan is sampled
    over the units, and each unit's index is expanded to the indices of its patches (row-major).

    Args:
        weights: (B, gh, gw) non-negative weights on the patch grid, or ``None`` for uniform weights
            (plain random masking; then ``batch_size`` is required).
        patch_grid: ``(gh, gw)``, the patch grid of the images; a multiple of ``unit`` both ways.
        unit: side of a masking unit in patches, >= 1 (1 for MAE, 2 for SimMIM's 32 px units of
            16 px patches).
        mask_ratio: share of the units to mask, in [0, 1).
        throw_ratio: share of the units to throw, in [0, 1), with mask + throw < 1.
        batch_size: number of images when ``weights`` is None.
        device: device of the uniform weights when ``weights`` is None. Defaults to the CPU.
        **sampling: passed on to :func:`sample_plan` (e.g. ``generator``).

    Returns:
        The plan with patch indices of the ``gh * gw`` patch grid.
    """
    if not (isinstance(unit, int) and unit >= 1):
        raise ValueError(f'unit must be a positive integer (patches per unit side), got {unit!r}')
    if patch_grid[0] % unit or patch_grid[1] % unit:
        raise ValueError(
            f'the patch grid {tuple(patch_grid)} is not a multiple of the masking unit of {unit} patches'
        )
    unit_grid = (patch_grid[0] // unit, patch_grid[1] // unit)
    if weights is None:
        if batch_size is None:
            raise ValueError('plan_from_weights needs batch_size when weights is None (uniform)')
        flat = torch.ones(batch_size, unit_grid[0] * unit_grid[1], device=device)
    else:
        if tuple(weights.shape[1:]) != tuple(patch_grid):
            raise ValueError(
                f'weights of shape {tuple(weights.shape)} do not cover the patch grid '
                f'{tuple(patch_grid)}: pass (B, {patch_grid[0]}, {patch_grid[1]})'
            )
        flat = (pool_to_units(weights, unit) if unit > 1 else weights).flatten(1)
    plan = sample_plan(flat, mask_ratio, throw_ratio, **sampling)
    return plan.expand_units(unit_grid[1], unit)
