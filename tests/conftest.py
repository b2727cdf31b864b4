"""Shared set-up. Builders of tiny models and runs live in ``famt_mm.testing``."""
import os

import pytest

# keep the suite fast and deterministic on 2 cores
os.environ.setdefault('OMP_NUM_THREADS', '2')


@pytest.fixture(scope='session', autouse=True)
def _register():
    from mmengine.registry import DefaultScope

    import famt_mm  # noqa: F401
    if not DefaultScope.check_instance_created('famt_tests'):
        DefaultScope.get_instance('famt_tests', scope_name='mmpretrain')
