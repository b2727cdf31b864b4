"""The stored whole-image importance maps and their warp to training views."""

from typing import Optional, Tuple

import torch

from ...core import warp_to_views


class ImportanceCache:
    """(N, h, w) fp16 maps on the CPU, one per training sample, indexed by ``sample_idx``.

    A plain object, not a module buffer: its size follows the dataset, it is written by the refresh
    hook, and it travels in checkpoints outside ``state_dict`` through :meth:`state_dict` /
    :meth:`load_state_dict` (so exported backbones and downstream loaders never see it).

    Args:
        eps (float): added to every warped weight so that no patch has zero probability.
    """

    def __init__(self, eps: float = 1e-6):
        if not eps >= 0:
            raise ValueError(f'eps must be >= 0, got {eps!r}')
        self.eps = eps
        self._maps: Optional[torch.Tensor] = None

    @property
    def maps(self) -> Optional[torch.Tensor]:
        """The stored (N, h, w) fp16 maps, or ``None`` before the first refresh."""
        return self._maps

    @property
    def ready(self) -> bool:
        """Whether maps are stored (guided sampling is possible)."""
        return self._maps is not None

    def __len__(self) -> int:
        return 0 if self._maps is None else self._maps.shape[0]

    def set(self, maps: Optional[torch.Tensor]) -> None:
        """Store floating (N, h, w) maps (kept as fp16 on the CPU); ``None`` clears the cache."""
        if maps is not None:
            if maps.dim() != 3 or not torch.is_floating_point(maps):
                raise ValueError(
                    f'importance maps must be a floating (N, h, w) tensor, '
                    f'got {maps.dtype} of shape {tuple(maps.shape)}'
                )
            maps = maps.detach().to('cpu', torch.float16)
        self._maps = maps

    def clear(self) -> None:
        """Forget the maps: sampling goes back to the warm-up until the next refresh."""
        self._maps = None

    def state_dict(self) -> dict:
        """``dict(maps=...)`` for a checkpoint; empty when no maps are stored."""
        return {} if self._maps is None else dict(maps=self._maps)

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (an empty dict clears the cache)."""
        self.set(state.get('maps'))

    def view_weights(
        self,
        indices: torch.Tensor,
        boxes: torch.Tensor,
        hflip: Optional[torch.Tensor],
        vflip: Optional[torch.Tensor],
        patch_grid: Tuple[int, int],
        device: Optional[torch.device] = None,
    ) -> torch.Tensor:
        """(B, gh, gw) weights of each view's patches: the stored maps warped to the views, + eps.

        Args:
            indices: (B,) ``sample_idx`` of the images.
            boxes: (B, 4) crop boxes ``(x0, y0, x1, y1)`` as fractions of the image.
            hflip, vflip: (B,) bool flips of the views, or ``None``.
            patch_grid: ``(gh, gw)``, the patch grid of the views.
            device: where to warp (the inputs' device). Defaults to the CPU.
        """
        if self._maps is None:
            raise RuntimeError(
                'the importance cache is empty: the refresh hook has not scored the training set yet'
            )
        num_maps = self._maps.shape[0]
        if indices.max() >= num_maps or indices.min() < 0:
            raise ValueError(
                f'sample_idx {int(indices.max())} lies outside the importance cache of '
                f'{num_maps} maps: the cache was computed on another dataset'
            )
        maps = self._maps[indices].to(device or 'cpu', non_blocking=True)
        return warp_to_views(maps, boxes, patch_grid, hflip, vflip).clamp_min(0) + self.eps
