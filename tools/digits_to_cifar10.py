"""Write the embedded digits demo data in CIFAR-10's on-disk format, for a real run of the protocol.

    python tools/digits_to_cifar10.py data/digits_cifar10

scikit-learn's 1,797 handwritten digits (8 x 8, shipped with scikit-learn, nothing downloaded) are
resized to 32 x 32 exactly as the demo's pipeline does (bicubic) and saved as the python pickle
batches of CIFAR-10 (``cifar-10-batches-py/data_batch_1..5``, ``test_batch``, ``batches.meta``), with
the demo's own split: its 1,438 training images as the training batches, its 359 held-out images as
the test batch. ``configs/famt/benchmarks/*_cifar10.py`` then read them through ``LocalCIFAR10``:

    python tools/evaluate.py work_dirs/famt-mae_vit-tiny-p4_1xb64-60e_digits --dataset cifar10 \\
        --data-root data/digits_cifar10
"""

import argparse
import os
import os.path as osp
import pickle

import mmcv
import numpy as np

import famt_mm  # noqa: F401
from famt_mm.datasets import SklearnDigits


def cifar_rows(images: np.ndarray) -> np.ndarray:
    """(N, 32, 32, 3) RGB -> (N, 3072) rows: all red values, then green, then blue (row-major)."""
    return images.transpose(0, 3, 1, 2).reshape(len(images), -1)


def split_arrays(split: str, size: int = 32):
    dataset = SklearnDigits(split=split)
    images = np.stack(
        [
            mmcv.imresize(dataset.get_data_info(i)['img'], (size, size), interpolation='bicubic')
            for i in range(len(dataset))
        ]
    )
    labels = [int(dataset.get_data_info(i)['gt_label']) for i in range(len(dataset))]
    return images, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='data root to create (cifar-10-batches-py/ goes inside)')
    args = parser.parse_args()
    folder = osp.join(args.out, 'cifar-10-batches-py')
    os.makedirs(folder, exist_ok=True)

    def dump(name, obj):
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(obj, f, protocol=2)

    images, labels = split_arrays('train')
    for i, part in enumerate(np.array_split(np.arange(len(labels)), 5), 1):
        dump(
            f'data_batch_{i}',
            {
                'batch_label': f'digits training batch {i} of 5',
                'labels': [labels[j] for j in part],
                'data': cifar_rows(images[part]),
            },
        )
    test_images, test_labels = split_arrays('test')
    dump(
        'test_batch',
        {'batch_label': 'digits test batch', 'labels': test_labels, 'data': cifar_rows(test_images)},
    )
    dump('batches.meta', {'label_names': [str(d) for d in range(10)]})
    print(f'wrote {len(labels)} training and {len(test_labels)} test digits to {folder}')


if __name__ == '__main__':
    main()
