"""Shared set-up. Builders of tiny models and runs live in ``famt_mm.testing``."""

import os

import pytest

# keep the suite fast and deterministic on 2 cores
os.environ.setdefault('OMP_NUM_THREADS', '2')


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked ``gpu`` where torch sees no CUDA device, saying so."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason='needs a CUDA device: torch.cuda.is_available() is False here')
    for item in items:
        if item.get_closest_marker('gpu') is not None:
            item.add_marker(skip)


@pytest.fixture(scope='session', autouse=True)
def _register():
    from mmengine.registry import DefaultScope

    import famt_mm  # noqa: F401

    if not DefaultScope.check_instance_created('famt_tests'):
        DefaultScope.get_instance('famt_tests', scope_name='mmpretrain')
