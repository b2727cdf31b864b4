"""Small helpers the FAMT hooks share: the bare model, whole-image datasets, one sample's view."""
import copy
import random
from contextlib import contextmanager
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.model import is_model_wrapper
from torch import nn


def unwrap_model(runner) -> nn.Module:
    """The runner's model without its DDP (or other mmengine) wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


def whole_image_dataset(dataset, pipeline: List[dict], owner: str):
    """A shallow copy of ``dataset`` (sharing its annotations) whose pipeline is ``pipeline``.

    Args:
        dataset: the training set, an mmengine ``BaseDataset`` (it must have a ``pipeline``).
        pipeline: the whole-image transforms (load, resize, pack: no crop, no flip).
        owner: who asks, named in the error for datasets without a pipeline.
    """
    if not hasattr(dataset, 'pipeline'):
        raise TypeError(f"{owner} replaces the training dataset's pipeline, but "
                        f'{type(dataset).__name__} has none; wrapped datasets are not supported')
    dataset = copy.copy(dataset)
    dataset.pipeline = Compose(pipeline)
    return dataset


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
