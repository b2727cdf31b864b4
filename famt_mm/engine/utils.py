"""Small helpers the FAMT hooks share: the bare model, whole-image datasets, one sample's view."""

import copy
import hashlib
import pickle
import random
from contextlib import contextmanager
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.model import is_model_wrapper
from torch import nn

from .checks import derive_scoring_pipeline


def unwrap_model(runner) -> nn.Module:
    """The runner's model without its DDP (or other mmengine) wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


#: dataset wrappers whose samples keep the wrapped dataset's sample_idx (the maps' index space)
INDEX_KEEPING_WRAPPERS = ('RepeatDataset', 'ClassBalancedDataset')


def indexed_dataset(dataset, owner: str = 'FAMTRefreshHook'):
    """The dataset whose ``sample_idx`` the training samples carry: ``dataset`` itself, or the dataset
    inside a ``RepeatDataset`` / ``ClassBalancedDataset`` (their samples keep its indices, so one map
    per image serves every repetition)."""
    while type(dataset).__name__ in INDEX_KEEPING_WRAPPERS:
        dataset = dataset.dataset
    if type(dataset).__name__ == 'ConcatDataset':
        raise TypeError(
            f'{owner}: the samples of a ConcatDataset carry the sample_idx of their own '
            'dataset, so two images would share one importance map; merge the parts into '
            'one dataset instead (one annotation file, or a dataset class reading all '
            'parts). RepeatDataset and ClassBalancedDataset are supported'
        )
    return dataset


def dataset_fingerprint(dataset) -> str:
    """A digest of the annotations of the dataset the maps index (:func:`indexed_dataset`): the same
    images in the same order give the same digest. mmengine's serialised ``data_bytes`` are hashed where
    the dataset has them, else its pickled ``data_list``."""
    dataset = indexed_dataset(dataset)
    digest = hashlib.sha1(str(len(dataset)).encode())
    data_bytes = getattr(dataset, 'data_bytes', None)
    if isinstance(data_bytes, np.ndarray):
        digest.update(data_bytes.tobytes())
    else:
        digest.update(pickle.dumps(getattr(dataset, 'data_list', None)))
    return digest.hexdigest()


def whole_image_dataset(dataset, pipeline: List[dict], owner: str):
    """A shallow copy of ``dataset`` (sharing its annotations) whose pipeline is ``pipeline``.

    Args:
        dataset: the training set, an mmengine ``BaseDataset`` (it must have a ``pipeline``).
        pipeline: the whole-image transforms (load, resize, pack: no crop, no flip).
        owner: who asks, named in the error for datasets without a pipeline.
    """
    dataset = indexed_dataset(dataset, owner)
    if not hasattr(dataset, 'pipeline'):
        raise TypeError(
            f"{owner} replaces the training dataset's pipeline, but {type(dataset).__name__} has none"
        )
    dataset = copy.copy(dataset)
    dataset.pipeline = Compose(pipeline)
    return dataset


def derived_whole_image_pipeline(dataset, owner: str, train_size: Optional[Tuple[int, int]] = None) -> list:
    """The whole-image pipeline of a training dataset, by :func:`~.checks.derive_scoring_pipeline`'s
    rule (its loading, a resize to the views' size, ``PackInputs``), sharing its built transforms.

    Args:
        dataset: the training set.
        owner: who asks, named in errors.
        train_size: ``(height, width)`` of the training views; measured on the first sample if not given.
    """
    pipeline = getattr(indexed_dataset(dataset, owner), 'pipeline', None)
    if pipeline is None or not hasattr(pipeline, 'transforms'):
        raise TypeError(
            f"{owner} derives its whole-image pipeline from the training dataset's, but "
            f'{type(dataset).__name__} has none: give {owner} a pipeline'
        )
    if train_size is None:
        train_size = tuple(first_sample(dataset)[0].shape[-2:])
    return derive_scoring_pipeline(list(pipeline.transforms), train_size)


def loader_with_whole_images(loader_cfg: dict, runner, owner: str) -> dict:
    """``loader_cfg`` as given, or, when its dataset names no ``pipeline``, with the training set's
    whole-image pipeline (:func:`derived_whole_image_pipeline`): evaluation images seen as the refresh
    scores them."""
    if loader_cfg['dataset'].get('pipeline') is not None:
        return loader_cfg
    pipeline = derived_whole_image_pipeline(runner.train_dataloader.dataset, owner)
    return dict(loader_cfg, dataset=dict(loader_cfg['dataset'], pipeline=pipeline))


@contextmanager
def kept_random_state():
    """Run a block and give Python's, NumPy's and torch's CPU random states back afterwards.

    Checks that run a random pipeline once must not shift the training's own draws.
    """
    py_state, np_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


def first_sample(dataset) -> Tuple[Optional[torch.Tensor], dict]:
    """The packed first item of ``dataset``: its (C, H, W) input (the first view of several) and
    its data sample's metainfo, computed with the random states kept."""
    with kept_random_state():
        item = dataset[0]
    inputs = item.get('inputs')
    if isinstance(inputs, (list, tuple)):
        inputs = inputs[0] if inputs else None
    sample = item.get('data_samples')
    if isinstance(sample, (list, tuple)):
        sample = sample[0] if sample else None
    metainfo = dict(sample.metainfo) if sample is not None else {}
    return inputs, metainfo
