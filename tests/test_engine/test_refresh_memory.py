"""What a refresh holds in memory while it assembles the cache: the new cache takes the place of the
previous one, and the maps are cleaned and written a chunk at a time, with no second full-size copy.
(The DDP path, shard by shard, is measured in tests/test_engine/test_ddp.py.)"""

import pytest
import torch

from famt_mm.engine import refresh_hook
from famt_mm.engine.refresh_hook import FAMTRefreshHook
from famt_mm.testing.memory import can_measure_peak, peak_growth

pytestmark = pytest.mark.skipif(
    not can_measure_peak(), reason='needs Linux /proc/self/clear_refs to reset the peak resident set size'
)


def _measure_assembly() -> dict:
    """Assemble a 75 MiB cache in place of a previous one and measure the resident set's growth.
    Runs in a fresh process: what earlier tests left in the allocator does not move the figure."""
    import warnings

    refresh_hook.ASSEMBLY_CHUNK = 4096
    num_images = 200_000  # ImageNet's 14 x 14 grid: a cache of 75 MiB
    generator = torch.Generator().manual_seed(0)
    maps = torch.rand(num_images, 14, 14, generator=generator).half()
    maps[7, 3, 3] = float('nan')  # one unusable map: cleaned to uniform chunk by chunk
    order = torch.randperm(num_images, generator=generator)
    scored = maps[order]  # as scored: in the sampler's order
    previous = [torch.rand(num_images, 14, 14, generator=generator).half()]  # the cache in use
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with peak_growth() as peak:
            cache = FAMTRefreshHook._assemble(scored, order, num_images, release=previous.clear)
    expected = maps.clone()
    expected[7] = 1.0
    return dict(
        growth=peak['bytes'],
        cache_bytes=num_images * 14 * 14 * 2,
        released=not previous,
        equal=torch.equal(cache, expected),
        warnings=[str(w.message) for w in caught],
    )


def test_assembling_replaces_the_previous_cache_without_full_size_temporaries():
    import concurrent.futures
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn')) as pool:
        result = pool.submit(_measure_assembly).result()
    assert result['released']  # released before the new cache was allocated
    assert any('1 of 200000 images had non-finite' in w for w in result['warnings']), result['warnings']
    # the old code held the previous cache, the gathered maps, a cleaned copy and the new cache:
    # about 2.5 caches above this point; now chunk temporaries only
    assert result['growth'] < 0.3 * result['cache_bytes'], result['growth'] / result['cache_bytes']
    assert result['equal']


def test_a_refresh_that_misses_images_keeps_the_previous_cache():
    previous = [torch.ones(4, 2, 2)]
    with pytest.raises(RuntimeError, match='scored 2 of 4 images'):
        FAMTRefreshHook._assemble(torch.rand(3, 2, 2), torch.tensor([0, 1, 1]), 4, release=previous.clear)
    assert previous  # the check comes before anything is released
