"""An ImageNet-style folder of JPEGs for the end-to-end benchmark, made from images that ship with
installed packages, so the benchmark runs anywhere without a data set.

The sources, first found wins: scikit-learn's sample images (``china.jpg``, ``flower.jpg``),
mmpretrain's demo images (package data of an installed mmpretrain), else smooth synthetic images
(upsampled noise: natural-image-like JPEG sizes, unlike white noise). Each output image is a random
crop of a source, resized to a random size (shorter side 160-500 px, aspect 3:4 to 4:3, as most
ImageNet training images), maybe flipped and brightness-jittered, saved as JPEG quality 90 into
``class_XX/`` sub-folders.
"""

import glob
import os
import os.path as osp
from typing import List, Tuple

import numpy as np

#: extensions the benchmark's dataset scans for
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


def _sklearn_images() -> List[str]:
    try:
        import sklearn.datasets
    except ImportError:
        return []
    folder = osp.join(osp.dirname(sklearn.datasets.__file__), 'images')
    return sorted(glob.glob(osp.join(folder, '*.jpg')))


def _mmpretrain_images() -> List[str]:
    try:
        import mmpretrain
    except ImportError:
        return []
    root = osp.dirname(mmpretrain.__file__)
    found = []
    for pattern in ('.mim/demo/*', 'demo/*'):
        found += [p for p in glob.glob(osp.join(root, pattern)) if p.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)


def bundled_sources() -> Tuple[str, List[str]]:
    """(name of the source, image paths) of the first source that has images, else (synthetic, [])."""
    for name, finder in (
        ('scikit-learn sample images', _sklearn_images),
        ('mmpretrain demo images', _mmpretrain_images),
    ):
        paths = finder()
        if paths:
            return name, paths
    return 'synthetic (upsampled noise)', []


def _synthetic(rng: np.random.RandomState, size: Tuple[int, int] = (480, 640)):
    from PIL import Image

    h, w = size
    # coarse colour noise upsampled bicubically: smooth regions and edges, like a photo's spectrum
    coarse = rng.randint(0, 256, (h // 32, w // 32, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((w, h), Image.BICUBIC)
    fine = rng.normal(0, 8, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(img, dtype=np.float64) + fine, 0, 255).astype(np.uint8))


def make_image_folder(
    root: str, num_images: int, num_classes: int = 4, seed: int = 0, min_side: int = 160, max_side: int = 500
) -> dict:
    """Write ``num_images`` JPEGs into ``root/class_XX/`` and describe them.

    Args:
        root (str): output folder; created, and must hold no images yet.
        num_images (int): images to write, >= 1.
        num_classes (int): sub-folders, >= 1 (labels are not used by pretraining). Defaults to 4.
        seed (int): random seed of crops, sizes and flips. Defaults to 0.
        min_side (int): smallest shorter side in pixels, >= 16. Defaults to 160.
        max_side (int): largest shorter side in pixels, >= ``min_side``. Defaults to 500.

    Returns:
        dict: ``root``, ``source``, ``num_images``, ``mean_bytes`` and ``mean_pixels`` of the files.
    """
    from PIL import Image, ImageEnhance

    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    if num_classes < 1:
        raise ValueError(f'num_classes must be >= 1, got {num_classes}')
    if not 16 <= min_side <= max_side:
        raise ValueError(f'need 16 <= min_side <= max_side, got {min_side}, {max_side}')
    if osp.isdir(root) and list_images(root):
        raise FileExistsError(f'{root} already holds images; pass it as the data root instead')
    source, paths = bundled_sources()
    rng = np.random.RandomState(seed)
    sources = [Image.open(p).convert('RGB') for p in paths] or [_synthetic(rng) for _ in range(3)]
    sizes, pixels = [], []
    for i in range(num_images):
        src = sources[i % len(sources)]
        w, h = src.size
        area = rng.uniform(0.3, 1.0) * w * h
        aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        cw = int(min(w, round(np.sqrt(area * aspect))))
        ch = int(min(h, round(np.sqrt(area / aspect))))
        x0, y0 = rng.randint(0, w - cw + 1), rng.randint(0, h - ch + 1)
        img = src.crop((x0, y0, x0 + cw, y0 + ch))
        short = rng.randint(min_side, max_side + 1)
        scale = short / min(cw, ch)
        img = img.resize((max(1, round(cw * scale)), max(1, round(ch * scale))), Image.BICUBIC)
        if rng.rand() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.7, 1.3))
        folder = osp.join(root, f'class_{i % num_classes:02d}')
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, f'img_{i:05d}.jpg')
        img.save(path, quality=90)
        sizes.append(osp.getsize(path))
        pixels.append(img.size[0] * img.size[1])
    return dict(
        root=root,
        source=source,
        num_images=num_images,
        mean_bytes=float(np.mean(sizes)),
        mean_pixels=float(np.mean(pixels)),
    )


def list_images(root: str) -> List[str]:
    """Image files under ``root``, recursively, sorted."""
    found = []
    for folder, _, files in os.walk(root):
        found += [osp.join(folder, f) for f in files if f.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)
