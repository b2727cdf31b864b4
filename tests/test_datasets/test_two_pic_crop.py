"""The two-picture crop (BEiT, CAE) records its box in the unflipped image's coordinates."""

import mmcv
import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

import famt_mm  # noqa: F401  (registers the transform)


@pytest.mark.parametrize('direction', [None, 'horizontal', 'vertical', 'diagonal'])
def test_cropping_the_box_then_flipping_gives_the_view(direction):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    results = dict(img=image.copy())
    if direction is not None:  # BEiT's pipeline flips before the crop
        results = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0, direction=direction))(results)
    crop = TRANSFORMS.build(
        dict(
            type='FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox',
            size=16,
            second_size=8,
            interpolation='bicubic',
            second_interpolation='bicubic',
            scale=(0.2, 0.6),
        )
    )
    out = crop(results)
    x0, y0, x1, y1 = (out['crop_box'] * np.array([60, 40, 60, 40])).round().astype(int)
    assert (x1 - x0, y1 - y0) != (60, 40)
    expected = mmcv.imresize(image[y0:y1, x0:x1], (16, 16), interpolation='bicubic')
    if direction is not None:
        expected = mmcv.imflip(expected, direction)
    assert np.array_equal(out['img'][0], expected)
    assert out['img'][1].shape == (8, 8, 3)
