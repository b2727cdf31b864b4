"""Importance weights against direct loop-based computations (docs/method.md sections 2 and 6)."""

import math

import pytest
import torch

from famt_mm.core import (
    amt_weights,
    famt_attention,
    famt_weights,
    frequency_factor,
    lowpass_kernel,
    softmax_attention,
)


def _random_attention(batch, heads, tokens, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, heads, tokens, tokens, generator=generator).mul(2).softmax(dim=-1)


@pytest.mark.parametrize('batch,heads,num_patches', [(2, 3, 16), (1, 12, 196), (3, 1, 5)])
def test_amt_weights_match_a_loop(batch, heads, num_patches):
    attn = _random_attention(batch, heads, num_patches + 1)
    expected = torch.zeros(batch, num_patches)
    for b in range(batch):
        for h in range(heads):
            row = [attn[b, h, 0, 1 + j].item() for j in range(num_patches)]
            low, high = min(row), max(row)
            for j in range(num_patches):
                expected[b, j] += (row[j] - low) / (high - low) / heads
    assert torch.allclose(amt_weights(attn), expected, atol=1e-5)


@pytest.mark.parametrize('batch,heads,num_patches', [(2, 3, 16), (1, 4, 49), (2, 1, 3)])
def test_famt_attention_matches_a_loop(batch, heads, num_patches):
    attn = _random_attention(batch, heads, num_patches + 1, seed=1)
    cls_term, img_term = _famt_terms_by_loop(attn)
    assert torch.allclose(famt_attention(attn), cls_term + img_term, atol=1e-6)


def _frequency_factor_by_dft(tokens, sigma_ratio=0.075, centre=None):
    """Explicit DFT matrices, one channel at a time; the Gaussian at ``centre``, (L-1)/2 if None."""
    batch, length, channels = tokens.shape
    centre = (length - 1) / 2 if centre is None else centre
    n = torch.arange(length, dtype=torch.float64)
    dft = torch.exp(-2j * math.pi * n[:, None] * n[None, :] / length) / math.sqrt(length)
    sigma = sigma_ratio * length
    gain = torch.tensor(
        [1 - math.exp(-((k - centre) ** 2) / (2 * sigma**2)) for k in range(length)], dtype=torch.complex128
    )
    out = torch.zeros(batch, length, dtype=torch.float64)
    for b in range(batch):
        for c in range(channels):
            signal = tokens[b, :, c].double().to(torch.complex128)
            low = dft.conj().T @ (gain * (dft @ signal))
            out[b] += low.abs()
        out[b] /= tokens[b].double().abs().sum(dim=-1).mean()
    return out


def test_frequency_factor_matches_an_explicit_dft():
    tokens = torch.randn(2, 20, 7, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(frequency_factor(tokens).double(), _frequency_factor_by_dft(tokens), atol=1e-5)


def test_frequency_factor_of_known_spectra():
    length, channels = 64, 5
    kernel = lowpass_kernel(length)
    # a constant signal lives in bin 0 only: every token keeps g(0) of its magnitude
    constant = torch.full((1, length, channels), 2.5)
    assert torch.allclose(frequency_factor(constant), kernel[0].expand(1, length), atol=1e-5)
    assert kernel[0] > 0.999
    # (-1)^n lives in bin L/2, the middle of the unshifted spectrum: almost removed, exactly g(L/2)
    alternating = ((-1.0) ** torch.arange(length))[None, :, None].expand(1, length, channels)
    factor = frequency_factor(alternating)
    assert torch.allclose(factor, kernel[length // 2].expand(1, length), atol=1e-5)
    assert factor.max() < 0.1


def test_frequency_factor_is_scale_free_and_about_one_for_smooth_features():
    smooth = torch.sin(torch.linspace(0, math.pi, 49))[None, :, None] * torch.rand(1, 1, 32) + 1
    factor = frequency_factor(smooth)
    assert torch.allclose(factor, frequency_factor(smooth * 123.0), atol=1e-5)
    assert abs(factor.mean().item() - 1.0) < 0.05


def test_famt_weights_are_attention_times_frequency_of_patch_tokens():
    attn = _random_attention(2, 4, 17, seed=4)
    tokens = torch.randn(2, 17, 8)
    expected = frequency_factor(tokens[:, 1:]) * famt_attention(attn)
    assert torch.allclose(famt_weights(attn, tokens), expected)
    assert famt_weights(attn, tokens).shape == (2, 16)


def test_softmax_attention_matches_scaled_dot_product_attention():
    q, k, v = torch.randn(3, 2, 4, 9, 8).unbind(0)
    attn = softmax_attention(q, k, 8**-0.5)
    assert torch.allclose(attn @ v, torch.nn.functional.scaled_dot_product_attention(q, k, v), atol=1e-5)


def test_formulas_without_a_cls_token_use_attention_received():
    attn = _random_attention(2, 3, 9, seed=5)
    tokens = torch.randn(2, 9, 6)
    received = torch.zeros(2, 3, 9)
    for b in range(2):
        for h in range(3):
            for j in range(9):
                received[b, h, j] = sum(attn[b, h, i, j].item() for i in range(9)) / 9
    low = received.amin(-1, keepdim=True)
    high = received.amax(-1, keepdim=True)
    assert torch.allclose(
        amt_weights(attn, cls_token=False), ((received - low) / (high - low)).mean(1), atol=1e-5
    )
    assert torch.allclose(
        famt_weights(attn, tokens, cls_token=False), frequency_factor(tokens) * received.mean(1), atol=1e-6
    )


# ---- ablation switches (docs/method.md section 6) ------------------------------------------------


def _famt_terms_by_loop(attn):
    """(cls_term, img_term), each (B, L), by explicit loops."""
    batch, heads, tokens, _ = attn.shape
    num_patches = tokens - 1
    cls_term = torch.zeros(batch, num_patches)
    img_term = torch.zeros(batch, num_patches)
    for b in range(batch):
        for h in range(heads):
            a = attn[b, h]
            patch_to_cls = sum(a[1 + j, 0].item() for j in range(num_patches)) / num_patches
            for j in range(num_patches):
                cls_term[b, j] += a[0, 1 + j].item() * patch_to_cls / heads
                attended = sum(a[1 + i, 1 + j].item() for i in range(num_patches)) / num_patches
                img_term[b, j] += attended * a[0, 0].item() / heads
    return cls_term, img_term


def test_famt_attention_terms_select_the_cls_and_img_terms():
    attn = _random_attention(2, 3, 10, seed=6)
    cls_term, img_term = _famt_terms_by_loop(attn)
    assert torch.allclose(famt_attention(attn, terms=('cls',)), cls_term, atol=1e-6)
    assert torch.allclose(famt_attention(attn, terms=['img']), img_term, atol=1e-6)
    assert torch.allclose(famt_attention(attn, terms=('img', 'cls')), cls_term + img_term, atol=1e-6)
    assert torch.equal(famt_attention(attn), famt_attention(attn, terms=('cls', 'img')))
    # the two terms rank the patches differently, so the switch changes which patches are heavy
    assert not torch.equal(cls_term.argsort(dim=1), img_term.argsort(dim=1))


@pytest.mark.parametrize('terms', [(), ('cls', 'cls'), ('cls', 'patch'), 'cls'])
def test_bad_attention_terms_raise_naming_the_setting(terms):
    with pytest.raises(ValueError, match='attention_terms must'):
        famt_attention(_random_attention(1, 2, 5), terms=terms)


def test_kernel_centres_and_their_symmetry():
    length = 196
    reference = lowpass_kernel(length)
    symmetric = lowpass_kernel(length, centre='symmetric')
    assert torch.equal(reference, lowpass_kernel(length, centre='reference'))
    # reference: minimum between the two middle bins, mirror-symmetric about (L-1)/2
    assert torch.allclose(reference, reference.flip(0))
    # symmetric: g(k) = g(L-k), the symmetry of a real signal's spectrum, with g(L/2) = 0
    assert torch.allclose(symmetric[1:], symmetric[1:].flip(0))
    assert symmetric[length // 2] == 0
    # the reference kernel breaks that symmetry by up to 0.041 at L = 196
    mismatch = (reference[1:] - reference[1:].flip(0)).abs().max().item()
    assert 0.035 < mismatch < 0.045
    with pytest.raises(ValueError, match="centre must be one of 'reference', 'symmetric'"):
        lowpass_kernel(length, centre='middle')


def test_symmetric_kernel_keeps_filtered_tokens_real_and_reference_does_not():
    tokens = torch.randn(2, 196, 16, generator=torch.Generator().manual_seed(7))
    spectrum = torch.fft.fft(tokens, dim=1, norm='ortho')
    imaginary = {}
    for centre in ('reference', 'symmetric'):
        kernel = lowpass_kernel(196, centre=centre)
        filtered = torch.fft.ifft(spectrum * kernel[None, :, None], dim=1, norm='ortho')
        imaginary[centre] = filtered.imag.abs().max().item() / filtered.real.abs().max().item()
    assert imaginary['symmetric'] < 1e-5
    assert imaginary['reference'] > 1e-3


def test_frequency_filters_of_the_factor():
    tokens = torch.randn(2, 20, 7, generator=torch.Generator().manual_seed(8))
    assert torch.equal(frequency_factor(tokens), frequency_factor(tokens, filter='lowpass'))
    symmetric = frequency_factor(tokens, filter='lowpass_symmetric')
    assert torch.allclose(symmetric.double(), _frequency_factor_by_dft(tokens, centre=10.0), atol=1e-5)
    assert not torch.allclose(symmetric, frequency_factor(tokens), atol=1e-4)
    # no filter: the orthonormal FFT and its inverse cancel, leaving each token's activation energy
    unfiltered = frequency_factor(tokens, filter='none')
    magnitude = tokens.abs().sum(-1)
    assert torch.allclose(unfiltered, magnitude / magnitude.mean(dim=1, keepdim=True), atol=1e-6)
    # the Nyquist signal (-1)^n is removed exactly by the symmetric kernel, kept without a filter
    alternating = ((-1.0) ** torch.arange(20))[None, :, None].expand(1, 20, 3)
    assert frequency_factor(alternating, filter='lowpass_symmetric').max() < 1e-6
    assert torch.allclose(frequency_factor(alternating, filter='none'), torch.ones(1, 20))
    # sigma widens the removed band
    assert frequency_factor(alternating, 0.2).max() < frequency_factor(alternating, 0.075).max()
    with pytest.raises(ValueError, match="filter must be one of 'none', 'lowpass'"):
        frequency_factor(tokens, filter='highpass')


def test_famt_weights_sources_are_the_factors_alone_or_fused():
    attn = _random_attention(2, 4, 17, seed=9)
    tokens = torch.randn(2, 17, 8)
    attention = famt_attention(attn, terms=('img',))
    frequency = frequency_factor(tokens[:, 1:], 0.1, filter='lowpass_symmetric')
    kwargs = dict(terms=('img',), filter='lowpass_symmetric')
    assert torch.allclose(famt_weights(attn, tokens, 0.1, source='fused', **kwargs), frequency * attention)
    assert torch.equal(famt_weights(attn, tokens, 0.1, source='attention', **kwargs), attention)
    assert torch.equal(famt_weights(attn, tokens, 0.1, source='frequency', **kwargs), frequency)
    with pytest.raises(ValueError, match="source must be one of 'fused', 'attention', 'frequency'"):
        famt_weights(attn, tokens, source='amt')


def test_sources_without_a_cls_token():
    attn = _random_attention(2, 3, 9, seed=10)
    tokens = torch.randn(2, 9, 6)
    received = attn.mean(dim=2).mean(dim=1)
    assert torch.allclose(famt_weights(attn, tokens, cls_token=False, source='attention'), received)
    assert torch.allclose(
        famt_weights(attn, tokens, cls_token=False, source='frequency'), frequency_factor(tokens)
    )
    with pytest.raises(ValueError, match='need a CLS token'):
        famt_weights(attn, tokens, cls_token=False, terms=('cls',))
