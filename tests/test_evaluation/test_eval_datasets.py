"""The dataset classes read small datasets written by the tests in the real on-disk formats."""

import os
import os.path as osp
import pickle

import numpy as np
import pytest
from eval_fakes import write_cifar10, write_cifar100, write_stl10, write_tiny_imagenet
from mmpretrain.registry import DATASETS


def _build(**cfg):
    return DATASETS.build(cfg)


def _images_and_labels(dataset):
    infos = [dataset[i] for i in range(len(dataset))]  # no pipeline: the data infos themselves
    return np.stack([i['img'] for i in infos]), np.array([i.get('gt_label', -1) for i in infos])


# ---------------------------------------------------------------------------------------- CIFAR
@pytest.mark.parametrize('split', ['train', 'test'])
def test_local_cifar10_reads_the_pickle_batches(tmp_path, split):
    written = write_cifar10(tmp_path)
    dataset = _build(type='LocalCIFAR10', data_root=str(tmp_path), split=split)
    images, labels = _images_and_labels(dataset)
    np.testing.assert_array_equal(images, written[split][0])  # (N, 32, 32, 3) RGB, not transposed
    np.testing.assert_array_equal(labels, written[split][1])
    assert dataset.metainfo['classes'][0] == 'airplane'


def test_local_cifar100_reads_fine_labels(tmp_path):
    written = write_cifar100(tmp_path)
    dataset = _build(type='LocalCIFAR100', data_root=str(tmp_path), split='train')
    images, labels = _images_and_labels(dataset)
    np.testing.assert_array_equal(images, written['train'][0])
    np.testing.assert_array_equal(labels, written['train'][1])
    assert len(dataset.metainfo['classes']) == 100


def test_local_cifar_needs_only_the_split_and_never_downloads(tmp_path):
    write_cifar10(tmp_path)
    os.remove(tmp_path / 'cifar-10-batches-py' / 'test_batch')
    assert len(_build(type='LocalCIFAR10', data_root=str(tmp_path), split='train')) == 10
    with pytest.raises(FileNotFoundError, match='test_batch not found'):
        _build(type='LocalCIFAR10', data_root=str(tmp_path), split='test')
    with pytest.raises(ValueError, match='never downloads'):
        _build(type='LocalCIFAR10', data_root=str(tmp_path), download=True)
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\)"):
        _build(type='LocalCIFAR10', data_root=str(tmp_path), split='val')


def test_local_cifar_md5_check_is_opt_in(tmp_path):
    write_cifar10(tmp_path)
    with pytest.raises(ValueError, match='differs from the official archive'):
        _build(type='LocalCIFAR10', data_root=str(tmp_path), verify_md5=True)


def test_stock_mmpretrain_cifar_refuses_the_same_files(tmp_path):
    # why the subclass exists: mmpretrain's CIFAR10 rejects a re-packed copy (MD5) and downloads
    write_cifar10(tmp_path)
    with pytest.raises(RuntimeError, match='Cannot find CIFAR10'):
        _build(type='CIFAR10', data_root=str(tmp_path), download=False)


# ---------------------------------------------------------------------------------------- STL-10
@pytest.mark.parametrize('split', ['train', 'test', 'unlabeled'])
def test_stl10_reads_the_binary_files(tmp_path, split):
    written = write_stl10(tmp_path)
    dataset = _build(type='LocalSTL10', data_root=str(tmp_path), split=split)
    images, labels = _images_and_labels(dataset)
    np.testing.assert_array_equal(images, written[split][0])  # column-major channels undone
    if split == 'unlabeled':
        assert (labels == -1).all()  # no gt_label at all
    else:
        np.testing.assert_array_equal(labels, written[split][1])  # 1..10 on disk -> 0..9


def test_stl10_train_plus_unlabeled_for_pretraining(tmp_path):
    written = write_stl10(tmp_path)
    dataset = _build(type='LocalSTL10', data_root=str(tmp_path), split='train+unlabeled')
    images, _ = _images_and_labels(dataset)
    np.testing.assert_array_equal(images, np.concatenate([written['train'][0], written['unlabeled'][0]]))
    assert 'gt_label' not in dataset[0]


def test_stl10_pickles_without_its_images(tmp_path):
    write_stl10(tmp_path, num_unlabeled=40)
    dataset = _build(type='LocalSTL10', data_root=str(tmp_path), split='unlabeled', serialize_data=False)
    first = dataset[0]['img']
    blob = pickle.dumps(dataset)
    assert len(blob) < 40 * 96 * 96 * 3 / 4  # the memory map is re-opened, not copied
    np.testing.assert_array_equal(pickle.loads(blob)[0]['img'], first)


def test_stl10_bad_files_are_named(tmp_path):
    write_stl10(tmp_path)
    folder = tmp_path / 'stl10_binary'
    with pytest.raises(ValueError, match='split must be one of'):
        _build(type='LocalSTL10', data_root=str(tmp_path), split='val')
    np.zeros(3, np.uint8).tofile(folder / 'test_y.bin')
    with pytest.raises(ValueError, match='holds 3 labels for 4 images'):
        _build(type='LocalSTL10', data_root=str(tmp_path), split='test')
    with open(folder / 'train_X.bin', 'ab') as f:
        f.write(b'\0' * 10)
    with pytest.raises(ValueError, match='not a multiple of one 3x96x96 image'):
        _build(type='LocalSTL10', data_root=str(tmp_path), split='train')
    os.remove(folder / 'unlabeled_X.bin')
    with pytest.raises(FileNotFoundError, match='unlabeled_X.bin not found'):
        _build(type='LocalSTL10', data_root=str(tmp_path), split='unlabeled')


# ---------------------------------------------------------------------------------- Tiny ImageNet
def test_tiny_imagenet_reads_the_official_layout(tmp_path):
    written = write_tiny_imagenet(tmp_path / 'tiny-imagenet-200')
    root = str(tmp_path / 'tiny-imagenet-200')
    train = _build(
        type='LocalTinyImageNet', data_root=root, split='train', pipeline=[dict(type='LoadImageFromFile')]
    )
    assert train.metainfo['classes'] == tuple(written['wnids'])  # sorted, not wnids.txt order
    assert len(train) == len(written['train'])
    for i in range(len(train)):
        sample = train[i]
        wnid = osp.basename(osp.dirname(osp.dirname(sample['img_path'])))
        assert sample['gt_label'] == written['wnids'].index(wnid)
        assert sample['img'].shape == (64, 64, 3)
        # channel 0 (red, BGR index 2 after loading) encodes the label; JPEG keeps it roughly
        assert abs(sample['img'][..., 2].mean() - (sample['gt_label'] * 23 + 7)) < 6
    val = _build(type='LocalTinyImageNet', data_root=root, split='val')
    assert [val[i]['gt_label'] for i in range(len(val))] == [lab for _, lab in written['val']]
    assert val[0]['img_path'].endswith(osp.join('val', 'images', 'val_0.JPEG'))


def test_tiny_imagenet_bad_layouts_are_named(tmp_path):
    root = tmp_path / 'tiny-imagenet-200'
    write_tiny_imagenet(root)
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'val'\)"):
        _build(type='LocalTinyImageNet', data_root=str(root), split='test')
    with open(root / 'val' / 'val_annotations.txt', 'a') as f:
        f.write('val_9.JPEG\tn99\t0\t0\t1\t1\n')
    with pytest.raises(ValueError, match="names class 'n99', which wnids.txt does not list"):
        _build(type='LocalTinyImageNet', data_root=str(root), split='val')
    with pytest.raises(FileNotFoundError, match='wnids.txt not found'):
        _build(type='LocalTinyImageNet', data_root=str(tmp_path), split='train')
