"""The mask plan of a batch: which patches each image keeps visible, masks and throws.

Pure tensor code: no mmengine. Sampling (:mod:`famt_mm.core.sampling`) builds plans; models read them.
This module imports nothing from sampling, so every model can depend on the type alone.
"""

from typing import NamedTuple, Tuple

import torch

#: the three groups of a plan, in the order of :class:`MaskPlan`'s fields
PLAN_GROUPS: Tuple[str, ...] = ('visible', 'masked', 'thrown')


class MaskPlan(NamedTuple):
    """Index sets of one batch, drawn per image with the same counts for every image.

    A NamedTuple so that DDP's input handling moves it like any tuple of tensors.

    Attributes:
        visible: (B, n_visible) indices of the patches the encoder sees.
        masked: (B, n_masked) indices of the patches to reconstruct.
        thrown: (B, n_thrown) indices of the patches removed from encoder, decoder and loss.
    """

    visible: torch.Tensor
    masked: torch.Tensor
    thrown: torch.Tensor

    @property
    def num_patches(self) -> int:
        return self.visible.shape[1] + self.masked.shape[1] + self.thrown.shape[1]

    def expand_units(self, unit_grid_width: int, unit: int) -> 'MaskPlan':
        """The plan of ``unit x unit`` patch blocks, on the patch grid (row-major both)."""
        if unit == 1:
            return self
        return MaskPlan(*(expand_unit_ids(ids, unit_grid_width, unit) for ids in self))

    @property
    def kept(self) -> torch.Tensor:
        """(B, n_visible + n_masked) the patches that stay in the sequence: visible, then masked."""
        return torch.cat((self.visible, self.masked), dim=1)

    def indicator(self, group: str = 'masked', dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(B, L) tensor of ``dtype``: 1 at the patches of ``group`` (one of :data:`PLAN_GROUPS`),
        0 elsewhere, in grid order."""
        if group not in PLAN_GROUPS:
            raise ValueError(f'group must be one of {PLAN_GROUPS}, got {group!r}')
        ids = getattr(self, group)
        indicator = torch.zeros(ids.shape[0], self.num_patches, dtype=dtype, device=ids.device)
        return indicator.scatter_(1, ids, 1)

    def masked_indicator(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(B, L) tensor of ``dtype``: 1 at the masked patches, 0 elsewhere (grid order)."""
        return self.indicator('masked', dtype)

    def dense(
        self, grid: Tuple[int, int], group: str = 'masked', dtype: torch.dtype = torch.float32
    ) -> torch.Tensor:
        """(B, gh, gw) map of ``dtype`` on the patch grid: 1 at the patches of ``group``.

        The one way a plan becomes a grid, for models that take a dense mask (SimMIM's Swin, A²MIM) or
        an active map (SparK, ``group='visible'``).
        """
        if grid[0] * grid[1] != self.num_patches:
            raise ValueError(
                f"a {grid[0]}x{grid[1]} grid does not hold the plan's {self.num_patches} patches"
            )
        return self.indicator(group, dtype).view(-1, *grid)

    def to_labels(self) -> torch.Tensor:
        """(B, L) long tensor: 0 visible, 1 masked, 2 thrown."""
        labels = self.visible.new_zeros(self.visible.shape[0], self.num_patches)
        labels.scatter_(1, self.masked, 1)
        labels.scatter_(1, self.thrown, 2)
        return labels


def expand_unit_ids(ids: torch.Tensor, unit_grid_width: int, unit: int) -> torch.Tensor:
    """Patch indices (B, n * unit**2) covered by masking units ``ids`` (B, n) of a row-major grid
    ``unit_grid_width`` units wide, each unit ``unit x unit`` patches."""
    offsets = torch.arange(unit, device=ids.device)
    rows = (ids // unit_grid_width)[..., None, None] * unit + offsets[:, None]
    cols = (ids % unit_grid_width)[..., None, None] * unit + offsets[None, :]
    return (rows * (unit_grid_width * unit) + cols).flatten(1)


def gather_tokens(tokens: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Pick ``ids`` (B, n) along the token axis of ``tokens`` (B, L, ...)."""
    index = ids.reshape(*ids.shape, *([1] * (tokens.dim() - 2)))
    return torch.gather(tokens, 1, index.expand(-1, -1, *tokens.shape[2:]))
