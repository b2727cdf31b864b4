"""Object capture: how much of an importance map, or of a mask plan, falls on the object.

Pure tensor code: no mmengine. FAMT's first claim is that its weights find the semantic patches (the
object, not the background; Gui et al., arXiv 2211.15362, section 3). On images whose object pixels
are known (:class:`famt_mm.datasets.FAMTClutteredDigits`) these measures say whether they do:

* :func:`object_auc`: the ROC-AUC of the map as a detector of object patches: the probability that
  an object patch outweighs a background patch (ties count half). 0.5 is chance, 1 a map that ranks
  every object patch above every background patch. Invariant to any increasing transform of the map
  and to the object's size, so maps of different formulas and images of different digits compare
  directly: the primary measure (``docs/ablation.md``).
* :func:`object_lift`: the map's weight share on the object patches divided by their area share;
  1 is no better than a uniform map, ``L / n_object`` the most possible. It depends on the map's
  contrast, which is what weighted sampling reads, but also on the object's area.
* :func:`plan_object_shares`: the share of object patches among a plan's masked, thrown and visible
  patches: what the masking actually does with a map.
"""

from typing import Dict, Tuple

import torch
import torch.nn.functional as F

from .mask_plan import PLAN_GROUPS, MaskPlan

#: share of a patch's pixels on the object from which the patch counts as an object patch
OBJECT_THRESHOLD: float = 0.1


def patch_coverage(pixel_masks: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
    """(B, gh, gw) share of each patch's pixels on the object, from (B, H, W) pixel masks.

    Exact averages when H and W are multiples of the grid (the images tile into patches), else
    adaptive average pooling.
    """
    if pixel_masks.dim() != 3:
        raise ValueError(f'pixel_masks must be (B, H, W), got shape {tuple(pixel_masks.shape)}')
    return F.adaptive_avg_pool2d(pixel_masks[:, None].float(), tuple(grid))[:, 0]


def object_patches(coverage: torch.Tensor, threshold: float = OBJECT_THRESHOLD) -> torch.Tensor:
    """(B, ...) bool: the patches whose object share ``coverage`` reaches ``threshold`` (in (0, 1])."""
    if not (isinstance(threshold, (int, float)) and 0.0 < threshold <= 1.0):
        raise ValueError(f'threshold must lie in (0, 1], got {threshold!r}')
    return coverage >= threshold


def _flat(weights: torch.Tensor, objects: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    if weights.shape != objects.shape:
        raise ValueError(
            f'weights {tuple(weights.shape)} and object map {tuple(objects.shape)} '
            'must have the same (B, ...) shape'
        )
    return weights.flatten(1).float(), objects.flatten(1).bool()


def object_lift(weights: torch.Tensor, objects: torch.Tensor) -> torch.Tensor:
    """(B,) weight share on the object patches over their area share (1 = a uniform map).

    Args:
        weights: (B, ...) non-negative maps.
        objects: (B, ...) bool object patches, e.g. from :func:`object_patches`.

    Returns:
        One value per image; NaN where an image has no object patch, no background patch or a map
        that sums to zero (the ratio means nothing there).
    """
    w, obj = _flat(weights, objects)
    n_obj = obj.sum(dim=1).float()
    total = w.sum(dim=1)
    share = (w * obj).sum(dim=1) / total
    area = n_obj / obj.shape[1]
    lift = share / area
    undefined = (n_obj == 0) | (n_obj == obj.shape[1]) | ~(total > 0)
    return torch.where(undefined, torch.full_like(lift, float('nan')), lift)


def object_auc(weights: torch.Tensor, objects: torch.Tensor) -> torch.Tensor:
    """(B,) ROC-AUC of each map as a detector of its object patches (0.5 = chance).

    The Mann-Whitney form: over all pairs of an object and a background patch, the share in which the
    object patch has the larger weight, ties counting one half.

    Args:
        weights: (B, ...) maps (any real values: only their order counts).
        objects: (B, ...) bool object patches.

    Returns:
        One value per image; NaN where an image has no object or no background patch.
    """
    w, obj = _flat(weights, objects)
    greater = (w[:, :, None] > w[:, None, :]).float()
    ties = (w[:, :, None] == w[:, None, :]).float()
    pairs = obj[:, :, None] & ~obj[:, None, :]  # (object i, background j)
    wins = ((greater + 0.5 * ties) * pairs).sum(dim=(1, 2))
    n_pairs = pairs.sum(dim=(1, 2)).float()
    return torch.where(n_pairs > 0, wins / n_pairs.clamp_min(1), torch.full_like(wins, float('nan')))


def plan_object_counts(plan: MaskPlan, objects: torch.Tensor) -> Dict[str, Tuple[int, int]]:
    """Per plan group (and ``'all'``): (object patches, patches) summed over the batch.

    Args:
        plan: the batch's plan on the patch grid.
        objects: (B, L) or (B, gh, gw) bool object patches of the views, in grid order.
    """
    obj = objects.flatten(1).bool()
    if obj.shape != (plan.visible.shape[0], plan.num_patches):
        raise ValueError(
            f"the object map {tuple(objects.shape)} does not cover the plan's "
            f'{plan.visible.shape[0]} x {plan.num_patches} patches'
        )
    obj = obj.to(plan.visible.device)
    counts = {
        group: (int(torch.gather(obj, 1, getattr(plan, group)).sum()), getattr(plan, group).numel())
        for group in PLAN_GROUPS
    }
    counts['all'] = (int(obj.sum()), obj.numel())
    return counts


def plan_object_shares(plan: MaskPlan, objects: torch.Tensor) -> Dict[str, float]:
    """Share of object patches among each group's patches of the plan (NaN for an empty group), and
    among all patches (``'all'``, the base rate a random plan gives every group)."""
    return {
        group: (hit / total if total else float('nan'))
        for group, (hit, total) in plan_object_counts(plan, objects).items()
    }
