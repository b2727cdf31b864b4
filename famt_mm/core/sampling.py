"""Weighted sampling of the masked / thrown / visible patch sets (``docs/method.md`` section 4).

Pure tensor code: no mmengine, no registries.
"""

import math
from typing import Optional, Tuple

import torch

from .importance import check_choice
from .mask_plan import MaskPlan

#: how the counts are rounded: as the MAE reference code, as the SimMIM reference code
COUNT_ROUNDINGS: Tuple[str, ...] = ('floor_cumulative', 'ceil_each')
#: which group of the weighted draw is thrown: right after the masked ones, or the last drawn
THROW_FROM: Tuple[str, ...] = ('middle', 'lowest')
# products such as 0.29 * 100 = 28.999999999999996 are meant as whole numbers: rounding them to this
# many decimals first keeps int() / ceil() from going one off on float noise
_COUNT_DECIMALS = 9


def check_ratios(
    mask_ratio: float, throw_ratio: float, names: Tuple[str, str] = ('mask_ratio', 'throw_ratio')
) -> None:
    """Raise ValueError unless both ratios lie in [0, 1) and leave room for visible patches.

    Args:
        mask_ratio: share to mask.
        throw_ratio: share to throw.
        names: the settings the two ratios come from, named in the error.
    """
    for name, value in zip(names, (mask_ratio, throw_ratio)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
            raise ValueError(f'{name} must lie in [0, 1), got {value!r}')
    if mask_ratio + throw_ratio >= 1.0:
        raise ValueError(
            f'{names[0]} + {names[1]} must be below 1 so that some patches stay visible, '
            f'got {mask_ratio} + {throw_ratio} = {mask_ratio + throw_ratio}'
        )


def _units(num_patches: int, ratio: float) -> float:
    return round(num_patches * ratio, _COUNT_DECIMALS)


def plan_counts(
    num_patches: int, mask_ratio: float, throw_ratio: float, rounding: str = 'floor_cumulative'
) -> Tuple[int, int, int]:
    """Counts (n_masked, n_thrown, n_visible) for ``num_patches`` patches, as in the public code.

    Args:
        num_patches: number of patches (or masking units) L.
        mask_ratio: share to mask, in [0, 1).
        throw_ratio: share to throw, in [0, 1), with ``mask_ratio + throw_ratio < 1``.
        rounding: ``'floor_cumulative'`` as the MAE reference code: ``n_masked = int(L * mask_ratio)``
            and ``n_masked + n_thrown = int(L * (mask_ratio + throw_ratio))``. ``'ceil_each'`` as the
            SimMIM reference code: ``n_masked = ceil(L * mask_ratio)``, ``n_thrown =
            ceil(L * throw_ratio)``. At 0.44 / 0.26 of 49 units the first gives 21 / 13 / 15, the
            second 22 / 13 / 14. Products are rounded to 1e-9 first, so float noise (0.29 * 100 =
            28.999999999999996) does not cost a patch.
    """
    check_choice('rounding', rounding, COUNT_ROUNDINGS)
    check_ratios(mask_ratio, throw_ratio)
    if rounding == 'floor_cumulative':
        n_masked = int(_units(num_patches, mask_ratio))
        n_masked_or_thrown = int(_units(num_patches, mask_ratio + throw_ratio))
    else:
        n_masked = math.ceil(_units(num_patches, mask_ratio))
        n_masked_or_thrown = n_masked + math.ceil(_units(num_patches, throw_ratio))
    n_visible = num_patches - n_masked_or_thrown
    if n_masked < 1:
        raise ValueError(
            f'mask_ratio={mask_ratio} masks no patch of {num_patches}: it must be at least '
            f'{1 / num_patches:.4f} for this patch grid'
        )
    if n_visible < 1:
        raise ValueError(
            f'mask_ratio + throw_ratio = {mask_ratio + throw_ratio} leaves no visible patch of '
            f'{num_patches} with rounding={rounding!r}: lower the ratios for this patch grid'
        )
    return n_masked, n_masked_or_thrown - n_masked, n_visible


def sanitize_weights(weights: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Replace every row that is non-finite, negative somewhere or sums to zero by uniform weights.

    Returns the cleaned (B, L) weights and a (B,) bool tensor of the rows replaced. Runs without a
    host synchronisation, so it is safe on the training hot path.
    """
    bad = ~torch.isfinite(weights).all(dim=1) | (weights < 0).any(dim=1) | ~(weights.sum(dim=1) > 0)
    return torch.where(bad[:, None], torch.ones_like(weights), weights), bad


def sample_plan(
    weights: torch.Tensor,
    mask_ratio: float,
    throw_ratio: float,
    generator: Optional[torch.Generator] = None,
    rounding: str = 'floor_cumulative',
    throw_from: str = 'middle',
) -> MaskPlan:
    """Draw one weighted permutation per row without replacement (Gumbel top-k) and cut it.

    The first ``n_masked`` drawn (high weight) are masked. Uniform weights give plain random masking.

    Args:
        weights: (B, L) non-negative sampling weights; rows that are not usable fall back to uniform.
        mask_ratio: share of the L patches to mask, in [0, 1).
        throw_ratio: share of the L patches to throw, in [0, 1), with mask + throw < 1.
        generator: optional torch.Generator on the weights' device, for reproducible draws.
        rounding: how the counts are rounded, see :func:`plan_counts`.
        throw_from: ``'middle'`` throws the ``n_thrown`` drawn right after the masked ones and keeps
            the last drawn (lowest weights) visible, as the public code; ``'lowest'`` throws the last
            ``n_thrown`` drawn and keeps the middle group visible.
    """
    check_choice('throw_from', throw_from, THROW_FROM)
    num_patches = weights.shape[1]
    n_masked, n_thrown, _ = plan_counts(num_patches, mask_ratio, throw_ratio, rounding)
    weights, _ = sanitize_weights(weights.float())
    uniform = torch.rand(weights.shape, device=weights.device, generator=generator)
    tiny = torch.finfo(uniform.dtype).tiny
    exponential = -torch.log(uniform.clamp_min(tiny))
    gumbel = -torch.log(exponential.clamp_min(tiny))
    keys = torch.log(weights.clamp_min(tiny)) + gumbel
    order = keys.argsort(dim=1, descending=True)
    if throw_from == 'lowest':
        n_kept = num_patches - n_thrown
        return MaskPlan(
            visible=order[:, n_masked:n_kept], masked=order[:, :n_masked], thrown=order[:, n_kept:]
        )
    return MaskPlan(
        visible=order[:, n_masked + n_thrown :],
        masked=order[:, :n_masked],
        thrown=order[:, n_masked : n_masked + n_thrown],
    )
