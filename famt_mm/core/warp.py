"""Warping a stored whole-image map to a training view (``docs/method.md`` section 3).

The map covers the whole image; the view is a crop box, maybe flipped, resized to the patch grid.
Both are expressed in normalised image coordinates, so one batched ``grid_sample`` follows the view.
(The public AMT code sliced the map with pixel coordinates divided by the image height, which always
takes its top-left corner; coordinates here are fractions of the image on both axes.)
"""

from typing import Optional, Tuple

import torch
import torch.nn.functional as F


def warp_to_views(
    maps: torch.Tensor,
    boxes: torch.Tensor,
    out_size: Tuple[int, int],
    hflip: Optional[torch.Tensor] = None,
    vflip: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Cut each map under its crop box, resize it to ``out_size`` and flip it like the image.

    Args:
        maps: (B, h, w) maps over whole images.
        boxes: (B, 4) crop boxes ``(x0, y0, x1, y1)`` as fractions of image width and height.
        out_size: ``(gh, gw)``: the patch grid of the view.
        hflip, vflip: (B,) bool, whether the view was flipped left-right / top-bottom.

    Returns:
        (B, gh, gw) float maps aligned with the view's patches.
    """
    batch = maps.shape[0]
    boxes = boxes.to(device=maps.device, dtype=torch.float32)
    x0, y0, x1, y1 = boxes.unbind(dim=1)
    # affine_grid maps output coords u in [-1, 1] to input coords a * u + b (align_corners=False).
    scale_x, scale_y = x1 - x0, y1 - y0
    if hflip is not None:
        scale_x = torch.where(hflip.to(maps.device), -scale_x, scale_x)
    if vflip is not None:
        scale_y = torch.where(vflip.to(maps.device), -scale_y, scale_y)
    theta = torch.zeros(batch, 2, 3, device=maps.device)
    theta[:, 0, 0] = scale_x
    theta[:, 0, 2] = x0 + x1 - 1
    theta[:, 1, 1] = scale_y
    theta[:, 1, 2] = y0 + y1 - 1
    grid = F.affine_grid(theta, [batch, 1, *out_size], align_corners=False)
    warped = F.grid_sample(
        maps[:, None].float(), grid, mode='bilinear', padding_mode='border', align_corners=False
    )
    return warped[:, 0]


def pool_to_units(weights: torch.Tensor, unit: int) -> torch.Tensor:
    """Sum (B, gh, gw) patch weights over ``unit x unit`` blocks (masking units of SimMIM)."""
    if weights.shape[-2] % unit or weights.shape[-1] % unit:
        raise ValueError(
            f'the patch grid {tuple(weights.shape[-2:])} is not a multiple of the '
            f'masking unit of {unit} patches'
        )
    return F.avg_pool2d(weights[:, None], unit)[:, 0] * unit * unit
