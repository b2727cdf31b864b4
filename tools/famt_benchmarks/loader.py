"""Throughput of a config's training pipeline alone (decode, crop, flip, pack, collate), per worker.

A DataLoader worker is one process running the dataset's pipeline at one intra-op thread (PyTorch
sets that in its workers; mmengine's runtime sets OpenCV to 0 extra threads). The same work runs
here in this process with the same thread settings, image by image, each transform timed on its own,
then the packed samples are collated into batches. The result, images/s of one worker, divides a
model's images/s to give the workers that keep the model fed.
"""

import math
import time
from contextlib import contextmanager
from typing import Dict, Iterator, List

import torch


@contextmanager
def one_worker_threads() -> Iterator[None]:
    """Thread settings of a DataLoader worker for the duration of the block."""
    threads = torch.get_num_threads()
    try:
        import cv2

        cv2_threads = cv2.getNumThreads()
        cv2.setNumThreads(0)
    except ImportError:
        cv2 = None
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if cv2 is not None:
            cv2.setNumThreads(cv2_threads)


def _transform_name(transform) -> str:
    return type(transform).__name__


def pipeline_throughput(dataset, num_images: int, batch_size: int, warmup: int = 2) -> dict:
    """Images/s of one worker running ``dataset``'s pipeline and collating batches.

    Args:
        dataset: an mmengine ``BaseDataset`` whose ``pipeline`` is a ``Compose`` of transforms.
        num_images (int): timed images, >= 1; the dataset is cycled when it holds fewer.
        batch_size (int): collation batch, >= 1 (the training batch).
        warmup (int): untimed images first (file cache, lazy imports), >= 0. Defaults to 2.

    Returns:
        dict: ``images_per_s`` (one worker, collation included), ``ms_per_image``, ``stages_ms``
        (mean ms per image of each transform and of ``collate``) and ``num_images``.
    """
    from mmengine.dataset import default_collate

    if num_images < 1 or batch_size < 1 or warmup < 0:
        raise ValueError(
            f'need num_images >= 1, batch_size >= 1, warmup >= 0; got {num_images}, {batch_size}, {warmup}'
        )
    if len(dataset) == 0:
        raise ValueError('the dataset is empty: no images to run the pipeline on')
    transforms = list(dataset.pipeline.transforms)
    stages: Dict[str, float] = {}
    names = []
    for t in transforms:  # two transforms of one class keep apart
        name = _transform_name(t)
        while name in stages:
            name += "'"
        stages[name] = 0.0
        names.append(name)
    stages['collate'] = 0.0
    with one_worker_threads():
        for i in range(warmup):
            dataset[i % len(dataset)]
        batch: List[dict] = []
        start = time.perf_counter()
        for i in range(num_images):
            results = dataset.get_data_info((warmup + i) % len(dataset))
            for name, transform in zip(names, transforms):
                t0 = time.perf_counter()
                results = transform(results)
                stages[name] += time.perf_counter() - t0
            batch.append(results)
            if len(batch) == batch_size or i == num_images - 1:
                t0 = time.perf_counter()
                default_collate(batch)
                stages['collate'] += time.perf_counter() - t0
                batch = []
        total = time.perf_counter() - start
    return dict(
        images_per_s=num_images / total,
        ms_per_image=total / num_images * 1e3,
        stages_ms={k: v / num_images * 1e3 for k, v in stages.items()},
        num_images=num_images,
        batch_size=batch_size,
    )


def workers_needed(model_images_per_s: float, worker_images_per_s: float) -> int:
    """Loader workers whose summed pipeline throughput keeps up with the model (at least 1)."""
    if worker_images_per_s <= 0:
        raise ValueError(f'worker_images_per_s must be > 0, got {worker_images_per_s}')
    return max(1, math.ceil(model_images_per_s / worker_images_per_s))
