"""The importance cache: storage, checkpoint state, and the warp of its maps to training views."""

import pytest
import torch

from famt_mm.core import warp_to_views
from famt_mm.models import ImportanceCache


def test_set_stores_cpu_fp16_and_clear_goes_back_to_empty():
    cache = ImportanceCache()
    assert not cache.ready and len(cache) == 0 and cache.state_dict() == {}
    cache.set(torch.rand(5, 3, 3, dtype=torch.float64))
    assert cache.ready and len(cache) == 5
    assert cache.maps.dtype == torch.float16 and cache.maps.device.type == 'cpu'
    cache.clear()
    assert not cache.ready and cache.maps is None


def test_state_round_trips():
    cache = ImportanceCache()
    cache.set(torch.rand(4, 2, 2))
    other = ImportanceCache()
    other.load_state_dict(cache.state_dict())
    assert torch.equal(other.maps, cache.maps)
    other.load_state_dict({})
    assert not other.ready


def test_view_weights_warp_the_indexed_maps_and_add_eps():
    cache = ImportanceCache(eps=0.5)
    maps = torch.rand(6, 4, 4)
    cache.set(maps)
    indices = torch.tensor([4, 1])
    boxes = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 1.0, 1.0]])
    hflip = torch.tensor([True, False])
    weights = cache.view_weights(indices, boxes, hflip, None, (2, 2))
    expected = warp_to_views(maps[indices].half(), boxes, (2, 2), hflip, None) + 0.5
    assert torch.allclose(weights, expected)


@pytest.mark.parametrize(
    'maps,match',
    [
        (torch.rand(4, 4), 'floating \\(N, h, w\\) tensor'),
        (torch.ones(2, 4, 4, dtype=torch.long), 'floating \\(N, h, w\\) tensor'),
    ],
)
def test_bad_maps_are_refused(maps, match):
    with pytest.raises(ValueError, match=match):
        ImportanceCache().set(maps)


def test_lookups_outside_or_before_the_cache_are_errors():
    cache = ImportanceCache()
    box = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(RuntimeError, match='the importance cache is empty'):
        cache.view_weights(torch.tensor([0]), box, None, None, (2, 2))
    cache.set(torch.rand(2, 2, 2))
    with pytest.raises(ValueError, match='sample_idx 2 lies outside the importance cache of 2'):
        cache.view_weights(torch.tensor([2]), box, None, None, (2, 2))
    with pytest.raises(ValueError, match='eps must be >= 0'):
        ImportanceCache(eps=-1.0)
