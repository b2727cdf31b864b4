"""The throwing data preprocessor: normalises images and draws the batch's mask plan on device."""

from typing import List, Optional, Tuple

import torch
from mmpretrain.models import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS

from ...core import MaskPlan, plan_counts, plan_from_weights
from .importance_cache import ImportanceCache
from .mask_generators import BaseMaskGenerator

_FLIP_AXES = {'horizontal': (True, False), 'vertical': (False, True), 'diagonal': (True, True)}


@MODELS.register_module()
class FAMTDataPreprocessor(SelfSupDataPreprocessor):
    """SelfSupDataPreprocessor that also hands the model a :class:`MaskPlan` for each training batch.

    Per image its :class:`ImportanceCache` (``importance_cache``, filled by the refresh hook) looks up
    the stored map by ``sample_idx`` and warps it to the view (the crop box recorded by
    ``FAMTRandomResizedCropWithBox`` and the flip of ``RandomFlip``) on the patch grid, adding ``eps``;
    the core's ``plan_from_weights`` sums it over masking units and samples visible / masked /
    thrown units on the inputs' device; the plan handed to the model lists patches (a unit's patches
    share its fate).
    Until the refresh hook has stored maps (and for generators that need none) the weights are
    uniform; during that warm-up a guided generator masks at ``warmup_mask_ratio`` and throws
    nothing, as plain MAE. Counts are rounded and thrown patches chosen as the generator's
    ``count_rounding`` and ``throw_mode`` say.

    Args:
        mask_generator (dict | BaseMaskGenerator): e.g. ``dict(type='FAMTMaskGenerator')``.
        patch_size (int, optional): pixels of one plan patch. Defaults to None: the model sets it to
            its plan taker's (the backbone's patch size, SparK's and A²MIM's output stride) when it is
            built; a value that differs from the taker's is an error.
        unit_size (int, optional): masking unit in pixels (SimMIM uses 32); a multiple of
            ``patch_size``. Defaults to one patch.
        eps (float): added to every warped weight so that no patch has zero probability.
        **kwargs: the arguments of ``SelfSupDataPreprocessor`` (mean, std, to_rgb, ...).
    """

    def __init__(
        self,
        mask_generator: dict,
        patch_size: Optional[int] = None,
        unit_size: Optional[int] = None,
        eps: float = 1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(mask_generator, dict):
            mask_generator = MODELS.build(mask_generator)
        if not isinstance(mask_generator, BaseMaskGenerator):
            raise TypeError(
                f'mask_generator must be a config dict or a BaseMaskGenerator, '
                f'got {type(mask_generator).__name__}'
            )
        for name, value in (('patch_size', patch_size), ('unit_size', unit_size)):
            if value is not None and not (isinstance(value, int) and value >= 1):
                raise ValueError(f'{name} must be a positive integer (pixels) or None, got {value!r}')
        self.mask_generator = mask_generator
        self.patch_size: Optional[int] = None
        self.unit_size: Optional[int] = unit_size
        if patch_size is not None:
            self.adopt_patch_size(patch_size)
        #: the algorithm that takes this preprocessor's plans, set when that model is built
        self.plan_model: Optional[str] = None
        #: the refresh hook's maps; it saves and restores them through the cache's own interface
        self.importance_cache = ImportanceCache(eps)
        #: the plan of the last training batch, for hooks that measure what the masking did
        self.last_plan: Optional[MaskPlan] = None

    def adopt_patch_size(self, patch_size: int, source: Optional[str] = None) -> None:
        """Set the plan patch (pixels), or check it against the one already set.

        Args:
            patch_size (int): pixels of one plan patch.
            source (str, optional): the plan taker it comes from, named in the error; None when the
                config gives it.
        """
        if self.patch_size is not None and source is not None and patch_size != self.patch_size:
            raise ValueError(
                f'data_preprocessor.patch_size={self.patch_size} differs from '
                f"{source}'s plan patch of {patch_size} px: leave patch_size out of the "
                'config (the model sets it)'
            )
        unit_size = self.unit_size or patch_size
        if unit_size % patch_size:
            raise ValueError(
                f'unit_size must be a positive multiple of patch_size={patch_size}, got {unit_size!r}'
            )
        self.patch_size = patch_size
        self.unit_size = unit_size

    @property
    def eps(self) -> float:
        return self.importance_cache.eps

    @property
    def guided(self) -> bool:
        """Whether sampling follows stored maps (False during warm-up)."""
        return self.importance_cache.ready

    # eager under mmengine's compile=True (why: docs/speed.md, "Compile")
    @torch.compiler.disable
    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        if training:
            data['mask_plan'] = self.sample_mask_plan(data['inputs'], data['data_samples'])
            self.last_plan = data['mask_plan']
        return data

    @property
    def unit(self) -> int:
        """Patches per side of a masking unit."""
        return self.unit_size // self.patch_size

    def grid_size(self, inputs: torch.Tensor) -> Tuple[int, int]:
        """The view's grid of masking units, checking that the image tiles into patches and units."""
        if self.patch_size is None:
            raise RuntimeError(
                'FAMTDataPreprocessor has no patch_size: the FAMT model sets it when it '
                'is built (or give data_preprocessor.patch_size)'
            )
        height, width = inputs.shape[-2:]
        for name, size in (('patch_size', self.patch_size), ('unit_size', self.unit_size)):
            if height % size or width % size:
                raise ValueError(
                    f'image size {height}x{width} is not a multiple of {name}={size}: '
                    f'use an input size divisible by {size}'
                )
        return height // self.unit_size, width // self.unit_size

    def patch_grid(self, inputs: torch.Tensor) -> Tuple[int, int]:
        """The view's patch grid (after the checks of :meth:`grid_size`)."""
        units = self.grid_size(inputs)
        return units[0] * self.unit, units[1] * self.unit

    def plan_settings(self, guided: bool) -> dict:
        """Ratios (and sampling options) of :func:`plan_from_weights` for the mask generator.

        Args:
            guided (bool): whether the weights come from importance maps; a guided generator
                without maps is in its warm-up (``warmup_mask_ratio``, no throwing).
        """
        generator = self.mask_generator
        sampling = dict(rounding=generator.count_rounding, throw_from=generator.throw_from)
        if guided or not generator.needs_importance:
            return dict(mask_ratio=generator.mask_ratio, throw_ratio=generator.throw_ratio, **sampling)
        return dict(mask_ratio=generator.warmup_mask_ratio, throw_ratio=0.0, **sampling)

    def describe_plans(self, inputs: torch.Tensor) -> str:
        """The counts the plans of views like ``inputs`` (B, C, H, W) have, warm-up and guided, in
        words for the log."""
        units = self.grid_size(inputs)
        num_units, unit = (
            units[0] * units[1],
            f'{self.unit}x{self.unit}-patch units' if self.unit > 1 else 'patches',
        )

        def counts(guided: bool) -> str:
            settings = self.plan_settings(guided)
            masked, thrown, visible = plan_counts(
                num_units, settings['mask_ratio'], settings['throw_ratio'], settings['rounding']
            )
            return f'{masked} masked, {thrown} thrown, {visible} visible of {num_units} {unit}'

        if not self.mask_generator.needs_importance:
            return f'random: {counts(False)}'
        return f'warm-up (random): {counts(False)}; guided: {counts(True)}'

    def sample_mask_plan(self, inputs: torch.Tensor, data_samples: Optional[List]) -> MaskPlan:
        """Draw the mask plan of one batch over masking units, returned on the patch grid."""
        patch_grid = self.patch_grid(inputs)
        guided = self.mask_generator.needs_importance and self.guided
        weights = None
        if guided:
            indices, boxes, hflip, vflip = _view_metainfo(data_samples, inputs.shape[0])
            weights = self.importance_cache.view_weights(
                indices, boxes, hflip, vflip, patch_grid, device=inputs.device
            )
        return plan_from_weights(
            weights,
            patch_grid,
            self.unit,
            batch_size=inputs.shape[0],
            device=inputs.device,
            **self.plan_settings(guided),
        )


def _view_metainfo(data_samples: Optional[List], batch_size: int):
    """Per-sample ``sample_idx``, crop box and flips of a batch as CPU tensors."""
    if not data_samples or len(data_samples) != batch_size:
        raise ValueError(
            'guided masking needs one data sample per image carrying sample_idx and '
            'crop_box: pack the batch with PackInputs'
        )
    indices, boxes, hflip, vflip = [], [], [], []
    for sample in data_samples:
        idx = sample.get('sample_idx')
        if idx is None:
            raise ValueError(
                'a data sample has no sample_idx: the dataset must be an mmengine '
                'BaseDataset and PackInputs must keep the meta key "sample_idx"'
            )
        box = sample.get('crop_box')
        if box is None:
            raise ValueError(
                'a data sample has no crop_box: use FAMTRandomResizedCropWithBox instead of '
                'RandomResizedCrop and keep "crop_box" in PackInputs(meta_keys=...)'
            )
        flip_h, flip_v = (
            _FLIP_AXES.get(sample.get('flip_direction'), (False, False))
            if sample.get('flip', False)
            else (False, False)
        )
        indices.append(int(idx))
        boxes.append(torch.as_tensor(box, dtype=torch.float32))
        hflip.append(flip_h)
        vflip.append(flip_v)
    return (torch.tensor(indices), torch.stack(boxes), torch.tensor(hflip), torch.tensor(vflip))
