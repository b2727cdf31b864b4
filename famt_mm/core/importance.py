"""Per-image importance weights from the last transformer block (``docs/method.md`` section 2).

Shapes: ``attn`` is the last block's softmax attention (B, H, 1 + L, 1 + L) with token 0 the CLS
token; ``tokens`` the last block's output (B, 1 + L, D). Backbones without a CLS token (Swin) pass
``cls_token=False`` with (B, H, L, L) and (B, L, D): the CLS terms then give way to how much each
token is attended by the others. Pure tensor code: no mmengine.

The switches of the ablations (``docs/method.md`` section 6) are keyword arguments whose defaults
are the published FAMT behaviour.
"""

from typing import Optional, Sequence, Tuple

import torch

_EPS = 1e-12

#: the two terms of FAMT's attention weight
ATTENTION_TERMS: Tuple[str, ...] = ('cls', 'img')
#: where the Gaussian of the low-pass kernel is centred on the unshifted FFT bins
KERNEL_CENTRES: Tuple[str, ...] = ('reference', 'symmetric')
#: the frequency filter applied to the patch tokens before their magnitude is taken
FREQUENCY_FILTERS: Tuple[str, ...] = ('none', 'lowpass', 'lowpass_symmetric')
#: what the weight is made of: FAMT's product, or one of its two factors alone
WEIGHT_SOURCES: Tuple[str, ...] = ('fused', 'attention', 'frequency')
#: width of the Gaussian low-pass kernel as a share of the token count, as published (the one default)
SIGMA_RATIO: float = 0.075


def check_choice(name: str, value, allowed: Sequence) -> None:
    """Raise ValueError naming the setting and its allowed values unless ``value`` is one of them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f'{name} must be one of {", ".join(map(repr, allowed))}, got {value!r}')


def check_attention_terms(terms: Sequence[str]) -> Tuple[str, ...]:
    """The terms as a tuple in canonical order; ValueError unless a non-empty subset of cls / img."""
    if isinstance(terms, str) or not all(isinstance(t, str) for t in terms):
        raise ValueError(
            f'attention_terms must be a sequence drawn from {ATTENTION_TERMS}, '
            f'e.g. ("cls", "img"), got {terms!r}'
        )
    unknown = [t for t in terms if t not in ATTENTION_TERMS]
    if unknown or not terms or len(set(terms)) != len(terms):
        raise ValueError(
            f'attention_terms must name each of {ATTENTION_TERMS} at most once and at '
            f'least one of them, got {tuple(terms)!r}'
        )
    return tuple(t for t in ATTENTION_TERMS if t in terms)


def amt_weights(attn: torch.Tensor, cls_token: bool = True) -> torch.Tensor:
    """AMT: CLS->patch attention, min-max normalised over the L patches per head, mean over heads.

    Without a CLS token, each token's mean attention received from all tokens takes its place.
    """
    per_head = attn[:, :, 0, 1:].float() if cls_token else attn.float().mean(dim=2)
    low = per_head.amin(dim=-1, keepdim=True)
    high = per_head.amax(dim=-1, keepdim=True)
    return ((per_head - low) / (high - low).clamp_min(_EPS)).mean(dim=1)


def famt_attention(attn: torch.Tensor, terms: Sequence[str] = ATTENTION_TERMS) -> torch.Tensor:
    """FAMT's attention weight, by default ``cls + img`` (B, L).

    Args:
        attn: (B, H, 1 + L, 1 + L) softmax attention, CLS token first.
        terms: which terms to add up, a non-empty subset of ``('cls', 'img')``:
            ``cls`` is the CLS->patch attention, each head weighted by how much the patches attend
            to CLS; ``img`` is how much each patch is attended by the other patches, each head
            weighted by CLS->CLS. Defaults to both, as FAMT.
    """
    terms = check_attention_terms(terms)
    attn = attn.float()
    weight = attn.new_zeros(attn.shape[0], attn.shape[-1] - 1)
    if 'cls' in terms:
        cls_to_patch = attn[:, :, 0, 1:]
        patch_to_cls = attn[:, :, 1:, 0].mean(dim=-1, keepdim=True)
        weight = weight + (cls_to_patch * patch_to_cls).mean(dim=1)
    if 'img' in terms:
        attended = attn[:, :, 1:, 1:].mean(dim=2)
        cls_to_cls = attn[:, :, 0, 0].unsqueeze(-1)
        weight = weight + (attended * cls_to_cls).mean(dim=1)
    return weight


def lowpass_kernel(
    length: int,
    sigma_ratio: float = SIGMA_RATIO,
    device: Optional[torch.device] = None,
    centre: str = 'reference',
) -> torch.Tensor:
    """``g(k) = 1 - exp(-(k - c)^2 / (2 s^2))``, ``s = sigma_ratio * L``, on unshifted FFT bins.

    The unshifted FFT keeps its highest frequencies in the middle, so ``g`` suppresses them.

    Args:
        length: number of bins L.
        sigma_ratio: width of the Gaussian as a share of L.
        device: device of the kernel.
        centre: ``'reference'`` puts the Gaussian at ``c = (L - 1) / 2`` as the public FAMT code
            does; ``'symmetric'`` at ``c = L / 2``, the centre of a real signal's spectrum, so that
            ``g(k) = g(L - k)`` and the filtered signal stays real (``docs/method.md`` section 7).
    """
    check_choice('centre', centre, KERNEL_CENTRES)
    k = torch.arange(length, dtype=torch.float32, device=device)
    sigma = sigma_ratio * length
    middle = (length - 1) / 2 if centre == 'reference' else length / 2
    return 1.0 - torch.exp(-((k - middle) ** 2) / (2 * sigma**2))


def frequency_factor(
    tokens: torch.Tensor, sigma_ratio: float = SIGMA_RATIO, filter: str = 'lowpass'
) -> torch.Tensor:
    """Filtered energy of each patch token, about 1 on average (B, L).

    The patch tokens (B, L, D) are L samples of D signals: orthonormal FFT along the token axis,
    Gaussian low-pass, inverse FFT, magnitude summed over channels, divided by the image's mean
    absolute token activation (the mean over tokens of each token's summed absolute channels).

    Args:
        tokens: (B, L, D) patch tokens, without the CLS token.
        sigma_ratio: width of the low-pass kernel as a share of L.
        filter: ``'lowpass'`` (the public code: kernel centred at ``(L - 1) / 2``),
            ``'lowpass_symmetric'`` (centred at ``L / 2``) or ``'none'``: no filtering, so the factor
            is each token's summed absolute activation over the image's mean, the same feature
            energy without the low-pass view (an orthonormal FFT and its inverse cancel).
    """
    check_choice('filter', filter, FREQUENCY_FILTERS)
    x = tokens.float()
    scale = x.abs().sum(dim=-1).mean(dim=1, keepdim=True).clamp_min(_EPS)
    if filter == 'none':
        return x.abs().sum(dim=-1) / scale
    centre = 'symmetric' if filter == 'lowpass_symmetric' else 'reference'
    spectrum = torch.fft.fft(x, dim=1, norm='ortho')
    kernel = lowpass_kernel(x.shape[1], sigma_ratio, device=x.device, centre=centre)
    low = torch.fft.ifft(spectrum * kernel[None, :, None], dim=1, norm='ortho')
    return low.abs().sum(dim=-1) / scale


def famt_weights(
    attn: torch.Tensor,
    tokens: torch.Tensor,
    sigma_ratio: float = SIGMA_RATIO,
    cls_token: bool = True,
    *,
    source: str = 'fused',
    terms: Sequence[str] = ATTENTION_TERMS,
    filter: str = 'lowpass',
) -> torch.Tensor:
    """FAMT weight ``frequency_factor(patch tokens) * famt_attention(attn)`` (B, L), or one factor.

    Without a CLS token the attention term is each token's mean attention received from all tokens,
    averaged over heads (``terms`` must then stay at its default: there is no CLS to weight by).

    Args:
        attn: (B, H, N, N) softmax attention of the last block.
        tokens: (B, N, D) output tokens of the last block, the CLS token first as the block outputs it.
        sigma_ratio: width of the low-pass kernel as a share of L.
        cls_token: whether token 0 of ``attn`` and ``tokens`` is a CLS token.
        source: ``'fused'`` (FAMT: frequency x attention), ``'attention'`` (the attention term alone)
            or ``'frequency'`` (the frequency factor alone).
        terms: the attention terms, see :func:`famt_attention`.
        filter: the frequency filter, see :func:`frequency_factor`.
    """
    check_choice('source', source, WEIGHT_SOURCES)
    if not cls_token and check_attention_terms(terms) != ATTENTION_TERMS:
        raise ValueError(
            f'attention terms {tuple(terms)!r} need a CLS token; backbones without one '
            f'(Swin) use the attention received: leave the default {ATTENTION_TERMS!r}'
        )
    attention = None
    if source != 'frequency':
        attention = famt_attention(attn, terms) if cls_token else attn.float().mean(dim=2).mean(dim=1)
        if source == 'attention':
            return attention
    frequency = frequency_factor(tokens[:, 1:] if cls_token else tokens, sigma_ratio, filter)
    return frequency if attention is None else frequency * attention


def softmax_attention(
    q: torch.Tensor, k: torch.Tensor, scale: float, bias: Optional[torch.Tensor] = None
) -> torch.Tensor:
    """Materialised softmax attention (B, H, N, N) from (B, H, N, d) queries and keys, in fp32.

    Also under autocast (the refresh scores with the training's AMP), which would otherwise run the
    product in fp16 / bf16 whatever the inputs' dtype. ``bias`` (broadcastable to the logits, e.g.
    BEiT's relative position bias) is added before the softmax.
    """
    with torch.autocast(q.device.type, enabled=False):
        logits = q.float() @ k.float().transpose(-2, -1) * scale
        if bias is not None:
            logits = logits + bias.float()
        return logits.softmax(dim=-1)
