"""The linear probe's features: mean patch token of a ViT (CLS left out), mean position of a CNN map."""

import pytest
import torch

from famt_mm.engine.linear_probe_hook import pooled_features


def test_vit_tokens_pool_without_the_cls_token():
    tokens = torch.zeros(2, 5, 3)
    tokens[:, 0] = 100.0  # CLS
    tokens[:, 1:] = torch.arange(4.0).view(1, 4, 1)
    assert torch.equal(pooled_features(tokens), torch.full((2, 3), 1.5))


def test_cnn_maps_pool_over_positions():
    maps = torch.arange(2 * 3 * 4.0).view(2, 3, 2, 2)
    assert torch.equal(pooled_features(maps), maps.flatten(2).mean(-1))
    assert pooled_features(maps).shape == (2, 3)


def test_other_shapes_are_refused():
    with pytest.raises(ValueError, match=r'got shape \(2, 3\)'):
        pooled_features(torch.zeros(2, 3))
