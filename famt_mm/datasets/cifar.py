"""mmpretrain's CIFAR-10/100 readers for data already on disk: no download, no MD5 gate.

mmpretrain's ``CIFAR10`` / ``CIFAR100`` read the official python pickle batches, but they download the
archive when a file is missing and refuse files whose MD5 differs from the official archive's (so a
re-packed or test-written copy is unreadable). These thin subclasses keep mmpretrain's reading code
and replace only the integrity check: the split's files must exist, and MD5 sums are checked only on
request.
"""

import os.path as osp
from typing import List

from mmengine.fileio import exists, join_path
from mmpretrain.datasets import CIFAR10, CIFAR100
from mmpretrain.datasets.utils import check_md5
from mmpretrain.registry import DATASETS

_SPLITS = ('train', 'test')


class _LocalCIFARMixin:
    """Integrity check of the requested split's files only, without downloading.

    Args:
        data_root (str): folder holding ``base_folder`` (``cifar-10-batches-py`` or
            ``cifar-100-python``), as extracted from the official archive.
        split (str): ``'train'`` or ``'test'``.
        verify_md5 (bool): also compare each file's MD5 with the official archive's.
            Defaults to False.
        **kwargs: other arguments of mmpretrain's CIFAR datasets (``pipeline``, ``indices``, ...).
    """

    def __init__(self, data_root: str = '', split: str = 'train', verify_md5: bool = False, **kwargs):
        if split not in _SPLITS:
            raise ValueError(f'{type(self).__name__}: split must be one of {_SPLITS}, got {split!r}')
        if kwargs.pop('download', False):
            raise ValueError(
                f'{type(self).__name__} never downloads: extract the official archive '
                f"({self.url}) under data_root yourself (mmpretrain's CIFAR classes can "
                'download it)'
            )
        self.verify_md5 = verify_md5
        super().__init__(data_root=data_root, split=split, download=False, **kwargs)

    def _check_integrity(self) -> bool:
        files = self.train_list if self.split == 'train' else self.test_list
        folder = join_path(self.data_prefix['root'], self.base_folder)
        missing = [name for name, _ in files if not exists(join_path(folder, name))]
        if missing:
            raise FileNotFoundError(
                f'{type(self).__name__}: {", ".join(missing)} not found in {folder}; data_root must '
                f'hold the folder {self.base_folder!r} of the python version of the dataset '
                f'({osp.basename(self.url)})'
            )
        if self.verify_md5:
            wrong = [name for name, md5 in files if not check_md5(join_path(folder, name), md5)]
            if wrong:
                raise ValueError(
                    f'{type(self).__name__}: MD5 of {", ".join(wrong)} in {folder} '
                    'differs from the official archive (verify_md5=True)'
                )
        return True

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}'] + super().extra_repr()


@DATASETS.register_module()
class LocalCIFAR10(_LocalCIFARMixin, CIFAR10):
    """CIFAR-10 from ``data_root/cifar-10-batches-py`` (``data_batch_1..5``, ``test_batch``).

    Images come as (32, 32, 3) uint8 RGB arrays under ``img`` (no ``LoadImageFromFile`` in the
    pipeline; ``to_rgb=False`` in the data preprocessor). See :class:`_LocalCIFARMixin` for the args.
    """


@DATASETS.register_module()
class LocalCIFAR100(_LocalCIFARMixin, CIFAR100):
    """CIFAR-100 (fine labels) from ``data_root/cifar-100-python`` (``train``, ``test``).

    Images come as (32, 32, 3) uint8 RGB arrays under ``img``. See :class:`_LocalCIFARMixin`.
    """
