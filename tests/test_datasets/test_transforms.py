"""FAMTRandomResizedCropWithBox records where the view lies; PackFAMTInputs keeps it."""

import numpy as np
from mmpretrain.registry import TRANSFORMS


def test_crop_box_matches_the_pixels_cropped():
    height, width = 60, 80
    # each pixel holds its own column (channel 0) and row (channel 1)
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    img = np.stack([cols, rows, np.zeros_like(cols)], axis=-1).astype(np.uint8)
    crop = TRANSFORMS.build(
        dict(
            type='FAMTRandomResizedCropWithBox',
            scale=(60, 80),
            crop_ratio_range=(0.2, 0.5),
            interpolation='nearest',
        )
    )
    for _ in range(20):
        results = crop(dict(img=img.copy()))
        x0, y0, x1, y1 = results['crop_box']
        out = results['img']
        assert out.shape[:2] == (60, 80)
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
        # nearest resize keeps the first and last source column/row of the crop
        assert out[:, 0, 0].min() == round(x0 * width)
        assert out[:, -1, 0].max() == round(x1 * width) - 1
        assert out[0, :, 1].min() == round(y0 * height)
        assert out[-1, :, 1].max() == round(y1 * height) - 1


def test_pack_famt_inputs_keeps_crop_box_flip_and_sample_idx():
    pipeline = [
        TRANSFORMS.build(t)
        for t in (
            dict(type='FAMTRandomResizedCropWithBox', scale=16),
            dict(type='RandomFlip', prob=1.0),
            dict(type='PackFAMTInputs'),
        )
    ]
    results = dict(img=np.zeros((20, 20, 3), np.uint8), sample_idx=7)
    for t in pipeline:
        results = t(results)
    sample = results['data_samples']
    assert sample.sample_idx == 7 and sample.flip and sample.flip_direction == 'horizontal'
    assert len(sample.crop_box) == 4
