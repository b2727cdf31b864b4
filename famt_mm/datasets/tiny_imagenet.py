"""Tiny ImageNet (200 classes, 64 x 64) in the layout of the official ``tiny-imagenet-200.zip``."""

import os
import os.path as osp
from typing import List

from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .utils import check_split_and_root


@DATASETS.register_module()
class LocalTinyImageNet(BaseDataset):
    """Tiny ImageNet: 100,000 training and 10,000 validation JPEGs of 64 x 64 pixels.

    The layout is that of the extracted official archive::

        data_root/                      (tiny-imagenet-200)
        ├── wnids.txt                   one WordNet id per line: the 200 classes
        ├── train/<wnid>/images/*.JPEG  500 per class (train/<wnid>/<wnid>_boxes.txt is not used)
        └── val/images/*.JPEG, val/val_annotations.txt
                                        "<file>\\t<wnid>\\t<x0>\\t<y0>\\t<x1>\\t<y1>" per line

    Class indices follow the sorted WordNet ids (as torchvision's ``ImageFolder`` on ``train/``).
    Samples carry ``img_path``: load them with ``LoadImageFromFile`` (BGR, so ``to_rgb=True``).

    Args:
        data_root (str): the ``tiny-imagenet-200`` folder.
        split (str): ``'train'`` or ``'val'`` (the test split has no labels).
        **kwargs: other ``BaseDataset`` arguments (``pipeline``, ``indices``, ...).
    """

    SPLITS = ('train', 'val')
    IMG_EXTENSIONS = ('.jpeg', '.jpg', '.png')

    def __init__(self, data_root: str = '', split: str = 'train', **kwargs):
        check_split_and_root(
            'LocalTinyImageNet', split, self.SPLITS, data_root, 'the tiny-imagenet-200 folder'
        )
        self.split = split
        wnids_file = osp.join(data_root, 'wnids.txt')
        if not osp.isfile(wnids_file):
            raise FileNotFoundError(
                f'LocalTinyImageNet: {wnids_file} not found; data_root must be the '
                'extracted tiny-imagenet-200 folder'
            )
        with open(wnids_file) as f:
            wnids = sorted({line.strip() for line in f if line.strip()})
        kwargs.setdefault('metainfo', dict(classes=tuple(wnids)))
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        label_of = self.class_to_idx
        if self.split == 'train':
            return self._train_list(label_of)
        return self._val_list(label_of)

    def _train_list(self, label_of: dict) -> List[dict]:
        data_list = []
        for wnid, label in sorted(label_of.items(), key=lambda item: item[1]):
            folder = osp.join(self.data_root, 'train', wnid, 'images')
            if not osp.isdir(folder):
                raise FileNotFoundError(f'LocalTinyImageNet: {folder} not found (class {wnid} of wnids.txt)')
            names = sorted(n for n in os.listdir(folder) if n.lower().endswith(self.IMG_EXTENSIONS))
            data_list.extend(dict(img_path=osp.join(folder, n), gt_label=label) for n in names)
        return data_list

    def _val_list(self, label_of: dict) -> List[dict]:
        ann_file = osp.join(self.data_root, 'val', 'val_annotations.txt')
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'LocalTinyImageNet: {ann_file} not found')
        data_list = []
        with open(ann_file) as f:
            for number, line in enumerate(f, 1):
                fields = line.strip().split('\t')
                if fields == ['']:
                    continue
                if len(fields) < 2:
                    raise ValueError(
                        f'LocalTinyImageNet: {ann_file} line {number} should read '
                        f'"<file>\\t<wnid>\\t...", got {line.strip()!r}'
                    )
                name, wnid = fields[:2]
                if wnid not in label_of:
                    raise ValueError(
                        f'LocalTinyImageNet: {ann_file} line {number} names class '
                        f'{wnid!r}, which wnids.txt does not list'
                    )
                data_list.append(
                    dict(img_path=osp.join(self.data_root, 'val', 'images', name), gt_label=label_of[wnid])
                )
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Root of dataset: \t{self.data_root}']
