"""The importance formulas and the weighted draw under autocast and on half-precision inputs, on a
CPU: what CUDA's AMP (the refresh scores under the training's autocast) would otherwise change.

Autocast runs matrix products in fp16 / bf16 whatever their inputs' dtype, so the materialised
attention must switch it off to stay fp32; the FFT, the min-max normalisation and the Gumbel top-k
take their inputs to fp32 themselves.
"""

import warnings

import pytest
import torch

from famt_mm.core import amt_weights, famt_weights, frequency_factor, sample_plan, softmax_attention


def _cpu_autocast_runs(dtype) -> bool:
    """Whether torch autocasts to ``dtype`` on a CPU (torch 2.1: bf16 only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with torch.autocast('cpu', dtype=dtype):
                return (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == dtype
    except RuntimeError:
        return False


DTYPES = [
    torch.bfloat16,
    pytest.param(
        torch.float16,
        marks=pytest.mark.skipif(
            not _cpu_autocast_runs(torch.float16),
            reason=f'torch {torch.__version__} autocasts to bf16 only on a CPU',
        ),
    ),
]


def _attention(batch=2, heads=3, length=1 + 49, dims=8, seed=0):
    rng = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, heads, length, dims, generator=rng) * 3 for _ in range(2))


@pytest.mark.parametrize('dtype', DTYPES)
def test_the_materialised_attention_stays_fp32_under_autocast(dtype):
    q, k = _attention()
    bias = torch.randn(3, 50, 50)
    reference = softmax_attention(q, k, 8**-0.5, bias)
    with torch.autocast('cpu', dtype=dtype):
        attn = softmax_attention(q, k, 8**-0.5, bias)
    assert attn.dtype == torch.float32
    assert torch.equal(attn, reference)
    # the half-precision product autocast would have made instead differs
    with torch.autocast('cpu', dtype=dtype):
        product = (q.float() @ k.float().transpose(-2, -1) * 8**-0.5 + bias).softmax(dim=-1)
    assert not torch.equal(product.float(), reference)


@pytest.mark.parametrize('dtype', DTYPES)
def test_weights_of_half_precision_inputs_are_fp32_and_match_under_autocast(dtype):
    q, k = _attention()
    attn = softmax_attention(q, k, 8**-0.5)
    tokens = torch.randn(2, 50, 16) * 4
    for inputs in ((attn, tokens), (attn.to(dtype), tokens.to(dtype))):
        plain = (famt_weights(*inputs), frequency_factor(inputs[1][:, 1:]), amt_weights(inputs[0]))
        with torch.autocast('cpu', dtype=dtype):
            cast = (famt_weights(*inputs), frequency_factor(inputs[1][:, 1:]), amt_weights(inputs[0]))
        for a, b in zip(plain, cast):
            assert b.dtype == torch.float32 and torch.isfinite(b).all()
            assert torch.equal(a, b)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_the_gumbel_top_k_of_half_precision_weights_is_the_fp32_draw(dtype):
    weights = torch.rand(4, 49) + 0.01
    weights[1, :5] = 6e4 if dtype == torch.float16 else 1e30  # near the format's largest values
    weights[2, 7:] = 6e-8 if dtype == torch.float16 else 1e-30  # subnormal or tiny
    weights[3] = 0  # unusable: uniform
    half = weights.to(dtype)
    draws = []
    for w, cast in ((half.float(), False), (half, False), (half, True)):
        rng = torch.Generator().manual_seed(0)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=cast):
            draws.append(sample_plan(w, 0.45, 0.40, generator=rng))
    for plan in draws[1:]:
        for part in ('visible', 'masked', 'thrown'):
            assert torch.equal(getattr(plan, part), getattr(draws[0], part))
    # the five heaviest patches are always drawn first (masked); row 3 is a valid uniform draw
    assert set(draws[0].masked[1, :5].tolist()) == set(range(5))
    everything = torch.cat([draws[0].visible, draws[0].masked, draws[0].thrown], dim=1)
    assert torch.equal(everything.sort(dim=1).values, torch.arange(49).expand(4, 49))
