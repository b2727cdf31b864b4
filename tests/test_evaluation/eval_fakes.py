"""Helpers of the evaluation-protocol tests: tiny datasets written in their real on-disk formats
(independently of the readers under test), tiny checkpoints and configs shrunk to run in seconds."""

import os
import os.path as osp
import pickle
import uuid

import cv2
import numpy as np

TINY_ARCH = dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64)


def class_images(labels, size, seed=0):
    """uint8 RGB images (N, size, size, 3): channel 0 encodes the label, 1 a row ramp (to catch
    transposes), 2 noise."""
    rng = np.random.RandomState(seed)
    labels = np.asarray(labels)
    images = np.empty((len(labels), size, size, 3), dtype=np.uint8)
    images[..., 0] = (labels[:, None, None] * 23 + 7) % 256
    images[..., 1] = np.linspace(0, 255, size, dtype=np.uint8)[None, :, None]
    images[..., 2] = rng.randint(0, 256, (len(labels), size, size))
    return images


def _cifar_rows(images):
    # one row per image: the 1024 red values, then green, then blue, each row-major
    return images.transpose(0, 3, 1, 2).reshape(len(images), -1)


def _dump(path, obj):
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=2)  # the official batches are python-2 pickles


def write_cifar10(root, num_train=10, num_test=6, seed=0):
    """CIFAR-10's python version: data_batch_1..5, test_batch, batches.meta. Returns the arrays."""
    folder = osp.join(root, 'cifar-10-batches-py')
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    train_y = rng.randint(0, 10, num_train)
    test_y = rng.randint(0, 10, num_test)
    train_x, test_x = class_images(train_y, 32, seed), class_images(test_y, 32, seed + 1)
    for i, part in enumerate(np.array_split(np.arange(num_train), 5), 1):
        _dump(
            osp.join(folder, f'data_batch_{i}'),
            {
                'batch_label': f'training batch {i} of 5',
                'labels': train_y[part].tolist(),
                'data': _cifar_rows(train_x[part]),
                'filenames': [f'{j}.png' for j in part],
            },
        )
    _dump(
        osp.join(folder, 'test_batch'),
        {
            'batch_label': 'testing batch 1 of 1',
            'labels': test_y.tolist(),
            'data': _cifar_rows(test_x),
            'filenames': [f'{j}.png' for j in range(num_test)],
        },
    )
    _dump(
        osp.join(folder, 'batches.meta'),
        {'label_names': [f'c{i}' for i in range(10)], 'num_cases_per_batch': 10000, 'num_vis': 3072},
    )
    return dict(train=(train_x, train_y), test=(test_x, test_y))


def write_cifar100(root, num_train=8, num_test=4, seed=0):
    """CIFAR-100's python version: train, test, meta (fine and coarse labels)."""
    folder = osp.join(root, 'cifar-100-python')
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    out = {}
    for split, num in (('train', num_train), ('test', num_test)):
        fine = rng.randint(0, 100, num)
        images = class_images(fine, 32, seed + len(out))
        _dump(
            osp.join(folder, split),
            {
                'filenames': [f'{j}.png' for j in range(num)],
                'batch_label': split,
                'fine_labels': fine.tolist(),
                'coarse_labels': (fine // 5).tolist(),
                'data': _cifar_rows(images),
            },
        )
        out[split] = (images, fine)
    _dump(
        osp.join(folder, 'meta'),
        {
            'fine_label_names': [f'f{i}' for i in range(100)],
            'coarse_label_names': [f'c{i}' for i in range(20)],
        },
    )
    return out


def write_stl10(root, num_train=6, num_test=4, num_unlabeled=5, seed=0):
    """STL-10's binary version: <split>_X.bin (each image 3 x 96 x 96, every channel column-major)
    and <split>_y.bin (labels 1..10)."""
    folder = osp.join(root, 'stl10_binary')
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    out = {}
    for i, (split, num) in enumerate(
        (('train', num_train), ('test', num_test), ('unlabeled', num_unlabeled))
    ):
        labels = rng.randint(0, 10, num)
        images = class_images(labels, 96, seed + i)
        # (N, H, W, C) -> (N, C, W, H) in C order == each channel column-major
        images.transpose(0, 3, 2, 1).tofile(osp.join(folder, f'{split}_X.bin'))
        if split != 'unlabeled':
            (labels + 1).astype(np.uint8).tofile(osp.join(folder, f'{split}_y.bin'))
        out[split] = (images, labels)
    with open(osp.join(folder, 'class_names.txt'), 'w') as f:
        f.write(
            '\n'.join(['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck'])
            + '\n'
        )
    return out


def _write_jpeg(path, rgb):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, np.ascontiguousarray(rgb[..., ::-1]))


def write_tiny_imagenet(root, wnids=('n02', 'n01', 'n03'), per_class=2, num_val=4, seed=0):
    """The extracted tiny-imagenet-200 layout (wnids.txt deliberately unsorted)."""
    os.makedirs(root, exist_ok=True)
    sorted_ids = sorted(wnids)
    with open(osp.join(root, 'wnids.txt'), 'w') as f:
        f.write('\n'.join(wnids) + '\n')
    with open(osp.join(root, 'words.txt'), 'w') as f:
        f.write(''.join(f'{w}\tthing {w}\n' for w in wnids))
    train = []
    for wnid in wnids:
        label = sorted_ids.index(wnid)
        images = class_images([label] * per_class, 64, seed + label)
        boxes = []
        for i, image in enumerate(images):
            name = f'{wnid}_{i}.JPEG'
            _write_jpeg(osp.join(root, 'train', wnid, 'images', name), image)
            boxes.append(f'{name}\t0\t0\t63\t63\n')
            train.append((wnid, label))
        with open(osp.join(root, 'train', wnid, f'{wnid}_boxes.txt'), 'w') as f:
            f.writelines(boxes)
    rng = np.random.RandomState(seed)
    val = []
    lines = []
    for i in range(num_val):
        wnid = wnids[rng.randint(len(wnids))]
        label = sorted_ids.index(wnid)
        _write_jpeg(
            osp.join(root, 'val', 'images', f'val_{i}.JPEG'), class_images([label], 64, seed + 100 + i)[0]
        )
        lines.append(f'val_{i}.JPEG\t{wnid}\t1\t2\t60\t61\n')
        val.append((wnid, label))
    with open(osp.join(root, 'val', 'val_annotations.txt'), 'w') as f:
        f.writelines(lines)
    return dict(train=train, val=val, wnids=sorted_ids)


def write_imagenet(root, num_classes=3, per_class=2, size=40):
    """mmpretrain's ImageNet layout: train/<class>/*.JPEG, val/<class>/*.JPEG, meta/{train,val}.txt."""
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    for split in ('train', 'val'):
        lines = []
        for label in range(num_classes):
            for i, image in enumerate(class_images([label] * per_class, size, label)):
                rel = f'n{label:08d}/{split}_{label}_{i}.JPEG'
                _write_jpeg(osp.join(root, split, rel), image)
                lines.append(f'{rel} {label}\n')
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.writelines(lines)


WRITERS = {
    'LocalCIFAR10': write_cifar10,
    'LocalCIFAR100': write_cifar100,
    'LocalSTL10': write_stl10,
    'LocalTinyImageNet': write_tiny_imagenet,
    'ImageNet': write_imagenet,
}


def shrink_pretrain_cfg(cfg, work_dir, data_root, batch_size=2, refresh_start_epoch=0):
    """A pretraining config at its own resolution and patch size, with a 2-block ViT, 2 images per
    batch, one epoch and (FAMT/AMT) the refresh before epoch 0, so guided masking runs at once."""
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'famt_eval_test_{uuid.uuid4().hex[:8]}'
    cfg.log_level = 'WARNING'
    cfg.model.backbone.arch = dict(TINY_ARCH)
    cfg.model.neck.update(
        embed_dim=TINY_ARCH['embed_dims'], decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2
    )
    loader = cfg.train_dataloader
    loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
    loader.dataset.data_root = str(data_root)
    loader.dataset.indices = batch_size
    for hook in cfg.custom_hooks:
        if hook.type == 'FAMTRefreshHook':
            hook.update(start_epoch=refresh_start_epoch, batch_size=batch_size, num_workers=0)
    cfg.train_cfg.max_epochs = 1
    _runtime_for_tests(cfg)
    return cfg


def shrink_benchmark_cfg(cfg, work_dir, data_root, batch_size=2):
    """A probe / fine-tune config with 2 images per batch, one epoch and one validation."""
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'famt_eval_test_{uuid.uuid4().hex[:8]}'
    cfg.log_level = 'WARNING'
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = str(data_root)
        loader.dataset.indices = batch_size
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    _runtime_for_tests(cfg)
    return cfg


def _runtime_for_tests(cfg):
    from famt_mm.evaluation.protocol import without_amp_on_cpu

    without_amp_on_cpu(cfg)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.env_cfg = dict(
        cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork'), dist_cfg=dict(backend='gloo')
    )
