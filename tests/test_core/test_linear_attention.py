"""Signed (X-ViT) attention rows as the importance formulas take them."""

import pytest
import torch

from famt_mm.core import amt_weights, famt_attention, signed_attention_rows


def test_each_mode_on_a_hand_made_row():
    row = torch.tensor([[[[0.5, -0.25, 0.0, 0.25]]]])
    assert torch.allclose(signed_attention_rows(row, 'clip'), torch.tensor([[[[2 / 3, 0, 0, 1 / 3]]]]))
    # shifted by the minimum -0.25: 0.75, 0, 0.25, 0.5 over 1.5
    assert torch.allclose(signed_attention_rows(row, 'shift'), torch.tensor([[[[0.5, 0, 1 / 6, 1 / 3]]]]))
    assert torch.allclose(signed_attention_rows(row, 'abs'), torch.tensor([[[[0.5, 0.25, 0, 0.25]]]]))


@pytest.mark.parametrize('mode', ['clip', 'shift', 'abs'])
def test_rows_are_non_negative_sum_to_one_and_ignore_a_positive_scale(mode):
    torch.manual_seed(0)
    signed = torch.empty(2, 3, 5, 5).uniform_(-1, 1)
    rows = signed_attention_rows(signed, mode)
    assert (rows >= 0).all() and torch.allclose(rows.sum(-1), torch.ones(2, 3, 5))
    assert torch.allclose(signed_attention_rows(signed * 7.0 / 5, mode), rows, atol=1e-6)


def test_an_empty_row_becomes_uniform():
    signed = torch.tensor([[[[-1.0, -0.5, -0.2], [0.3, 0.3, 0.3]]]])
    assert torch.allclose(signed_attention_rows(signed, 'clip')[0, 0, 0], torch.full((3,), 1 / 3))
    assert torch.allclose(signed_attention_rows(signed, 'shift')[0, 0, 1], torch.full((3,), 1 / 3))


def test_a_negative_head_scale_flips_clip_and_shift_but_not_abs():
    torch.manual_seed(0)
    signed = torch.empty(1, 1, 4, 4).uniform_(-1, 1)
    assert torch.equal(signed_attention_rows(-signed, 'abs'), signed_attention_rows(signed, 'abs'))
    assert not torch.allclose(signed_attention_rows(-signed, 'clip'), signed_attention_rows(signed, 'clip'))


def test_the_formulas_take_the_rows_like_softmax_rows():
    torch.manual_seed(0)
    rows = signed_attention_rows(torch.empty(2, 3, 5, 5).uniform_(-1, 1))
    assert torch.isfinite(amt_weights(rows)).all() and (famt_attention(rows) >= 0).all()


def test_unknown_mode_is_named():
    with pytest.raises(ValueError, match="mode must be one of 'clip', 'shift', 'abs'"):
        signed_attention_rows(torch.zeros(1, 1, 2, 2), 'softmax')
