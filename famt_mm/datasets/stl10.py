"""STL-10 from its binary files (``stl10_binary/*.bin``), read lazily through memory maps."""

import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .utils import check_split_and_root

STL10_CATEGORIES = ('airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck')


@DATASETS.register_module()
class LocalSTL10(BaseDataset):
    """STL-10 (96 x 96 RGB; 5,000 labelled training, 8,000 test and 100,000 unlabelled images).

    Reads the binary version as extracted from ``stl10_binary.tar.gz``: ``<split>_X.bin`` holds
    uint8 images of 3 x 96 x 96 bytes each, every channel stored column-major, and ``<split>_y.bin``
    one uint8 label in 1..10 per image. The files are memory-mapped and each image is copied out
    when it is fetched, so the 2.8 GB unlabelled split costs no memory up front. Images come as
    (96, 96, 3) uint8 RGB arrays under ``img`` (no ``LoadImageFromFile``; ``to_rgb=False``).

    Args:
        data_root (str): folder holding ``stl10_binary/``.
        split (str): ``'train'``, ``'test'``, ``'unlabeled'`` (no labels) or ``'train+unlabeled'``
            (the 105,000 images usually used for self-supervised pretraining; labels dropped).
        **kwargs: other ``BaseDataset`` arguments (``pipeline``, ``indices``, ...).
    """

    METAINFO = {'classes': STL10_CATEGORIES}
    base_folder = 'stl10_binary'
    SPLITS: Dict[str, Tuple[str, ...]] = {
        'train': ('train',),
        'test': ('test',),
        'unlabeled': ('unlabeled',),
        'train+unlabeled': ('train', 'unlabeled'),
    }
    IMG_SHAPE = (3, 96, 96)  # channel, then column-major (width, height)

    def __init__(self, data_root: str = '', split: str = 'train', **kwargs):
        check_split_and_root(
            'LocalSTL10', split, self.SPLITS, data_root, 'the folder that holds stl10_binary/'
        )
        self.split = split
        self._images: Dict[str, np.ndarray] = {}  # memory maps, opened per process on first use
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def _path(self, name: str) -> str:
        return osp.join(self.data_root, self.base_folder, name)

    def _image_array(self, part: str) -> np.ndarray:
        images = self._images.get(part)
        if images is None:
            path = self._path(f'{part}_X.bin')
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'LocalSTL10: {path} not found; data_root must hold the '
                    'stl10_binary/ folder of the binary version'
                )
            size = osp.getsize(path)
            per_image = int(np.prod(self.IMG_SHAPE))
            if size == 0 or size % per_image:
                raise ValueError(
                    f'LocalSTL10: {path} holds {size} bytes, not a multiple of one '
                    f'3x96x96 image ({per_image} bytes)'
                )
            images = np.memmap(path, dtype=np.uint8, mode='r').reshape(-1, *self.IMG_SHAPE)
            self._images[part] = images
        return images

    def _labels(self, part: str, num_images: int) -> Optional[np.ndarray]:
        if part == 'unlabeled':
            return None
        path = self._path(f'{part}_y.bin')
        if not osp.isfile(path):
            raise FileNotFoundError(f'LocalSTL10: {path} not found (labels of the {part} split)')
        labels = np.fromfile(path, dtype=np.uint8)
        if len(labels) != num_images:
            raise ValueError(f'LocalSTL10: {path} holds {len(labels)} labels for {num_images} images')
        if labels.min() < 1 or labels.max() > len(STL10_CATEGORIES):
            raise ValueError(
                f'LocalSTL10: labels in {path} must lie in 1..{len(STL10_CATEGORIES)}, '
                f'got {labels.min()}..{labels.max()}'
            )
        return labels.astype(np.int64) - 1

    def load_data_list(self) -> List[dict]:
        parts = self.SPLITS[self.split]
        with_labels = 'unlabeled' not in parts
        data_list = []
        for part in parts:
            num_images = len(self._image_array(part))
            labels = self._labels(part, num_images) if with_labels else None
            for i in range(num_images):
                info = dict(stl10_part=part, stl10_index=i)
                if labels is not None:
                    info['gt_label'] = int(labels[i])
                data_list.append(info)
        return data_list

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        image = self._image_array(info.pop('stl10_part'))[info.pop('stl10_index')]
        info['img'] = np.ascontiguousarray(image.transpose(2, 1, 0))  # (C, W, H) -> (H, W, C)
        return info

    def __getstate__(self):
        # workers re-open the memory maps instead of receiving pickled copies of the images
        state = self.__dict__.copy()
        state['_images'] = {}
        return state

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Root of dataset: \t{self.data_root}']
