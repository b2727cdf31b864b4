"""Transforms that record where a training view lies in its image, for warping importance maps."""

from typing import Tuple

import numpy as np
from mmpretrain.datasets.transforms import PackInputs, RandomResizedCrop
from mmpretrain.datasets.transforms import RandomResizedCropAndInterpolationWithTwoPic as TwoPicCrop
from mmpretrain.registry import TRANSFORMS

#: PackInputs meta keys that guided masking reads (flip and flip_direction come from RandomFlip)
FAMT_META_KEYS = PackInputs.DEFAULT_META_KEYS + ('crop_box',)


def crop_box_of(crop: Tuple[int, int, int, int], image_hw: Tuple[int, int]) -> np.ndarray:
    """``(x0, y0, x1, y1)`` as fractions of the image's width and height, of a crop given as
    ``(top, left, height, width)`` in pixels of an image of ``image_hw`` pixels."""
    (top, left, crop_h, crop_w), (height, width) = crop, image_hw
    return np.array(
        [left / width, top / height, (left + crop_w) / width, (top + crop_h) / height], dtype=np.float32
    )


class _RecordsCropBox:
    """Mixin of crop transforms: remembers the crop drawn last and adds its ``crop_box``."""

    def _remember(self, crop: Tuple[int, int, int, int], img: np.ndarray) -> Tuple[int, int, int, int]:
        self._last_crop = (crop, img.shape[:2])
        return crop

    def _transform_adding_box(self, results: dict) -> dict:
        self._last_crop = None
        results = super().transform(results)
        results['crop_box'] = crop_box_of(*self._last_crop)
        return results


@TRANSFORMS.register_module()
class FAMTRandomResizedCropWithBox(_RecordsCropBox, RandomResizedCrop):
    """mmpretrain's RandomResizedCrop that also records ``crop_box``.

    ``crop_box`` is ``(x0, y0, x1, y1)`` as fractions of the input image's width and height, the
    coordinates in which FAMT's whole-image maps are warped to the view. Keep it in the batch with
    ``PackInputs(meta_keys=FAMT_META_KEYS)``. Arguments are those of ``RandomResizedCrop``.
    """

    def rand_crop_params(self, img: np.ndarray) -> Tuple[int, int, int, int]:
        return self._remember(super().rand_crop_params(img), img)

    def transform(self, results: dict) -> dict:
        return self._transform_adding_box(results)


@TRANSFORMS.register_module()
class PackFAMTInputs(PackInputs):
    """PackInputs keeping ``crop_box`` besides mmpretrain's default meta keys."""

    def __init__(self, input_key: str = 'img', algorithm_keys=(), meta_keys=FAMT_META_KEYS):
        super().__init__(input_key=input_key, algorithm_keys=algorithm_keys, meta_keys=meta_keys)


@TRANSFORMS.register_module()
class FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox(_RecordsCropBox, TwoPicCrop):
    """mmpretrain's two-picture crop (BEiT, CAE) that also records ``crop_box``, as
    :class:`FAMTRandomResizedCropWithBox` does.

    BEiT's and CAE's pipelines flip before this crop, so the crop is drawn in the flipped image; the
    box is recorded in the unflipped image's coordinates (mirrored), where cropping and then
    flipping gives the same view, which is how FAMT's preprocessor warps the maps. Arguments are
    those of ``RandomResizedCropAndInterpolationWithTwoPic``.
    """

    def get_params(
        self, img: np.ndarray, scale: Tuple[float, float], ratio: Tuple[float, float]
    ) -> Tuple[int, int, int, int]:
        return self._remember(super().get_params(img, scale, ratio), img)

    def transform(self, results: dict) -> dict:
        results = self._transform_adding_box(results)
        x0, y0, x1, y1 = results['crop_box'].tolist()
        if results.get('flip', False):
            direction = results.get('flip_direction')
            if direction in ('horizontal', 'diagonal'):
                x0, x1 = 1.0 - x1, 1.0 - x0
            if direction in ('vertical', 'diagonal'):
                y0, y1 = 1.0 - y1, 1.0 - y0
        results['crop_box'] = np.array([x0, y0, x1, y1], dtype=np.float32)
        return results
