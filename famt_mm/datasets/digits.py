"""scikit-learn's 1,797 handwritten digits as an mmpretrain dataset: the embedded demo data.

The images ship inside scikit-learn, so nothing is downloaded at run time.
"""

from typing import List

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS


@DATASETS.register_module()
class SklearnDigits(BaseDataset):
    """8x8 grey digits (0..16) as uint8 RGB images (0..255), with a fixed train/test split.

    Args:
        split (str): ``'train'`` (about 80 %) or ``'test'`` (the rest); the split is a fixed
            permutation (seed 0) stratified by nothing but chance, identical on every machine.
        test_fraction (float): share held out for ``'test'``, in (0, 1). Defaults to 0.2.
        **kwargs: other ``BaseDataset`` arguments (``pipeline``, ``indices``, ...).
    """

    METAINFO = {'classes': tuple(str(i) for i in range(10))}

    def __init__(self, split: str = 'train', test_fraction: float = 0.2, **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f'test_fraction must lie in (0, 1), got {test_fraction!r}')
        self.split = split
        self.test_fraction = test_fraction
        kwargs.setdefault('data_root', '')
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        from sklearn.datasets import load_digits

        digits = load_digits()
        order = np.random.RandomState(0).permutation(len(digits.target))
        num_test = int(round(len(order) * self.test_fraction))
        chosen = order[:num_test] if self.split == 'test' else order[num_test:]
        images = (digits.images * (255.0 / 16.0)).round().astype(np.uint8)
        return [
            dict(img=np.repeat(images[i][:, :, None], 3, axis=2), gt_label=int(digits.target[i]))
            for i in sorted(chosen)
        ]
