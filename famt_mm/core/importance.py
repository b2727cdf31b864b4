"""Per-image importance weights from the last transformer block (FAMT-METHOD section 1).

Shapes: ``attn`` is the last block's softmax attention (B, H, 1 + L, 1 + L) with token 0 the CLS
token; ``tokens`` the last block's output (B, 1 + L, D). Backbones without a CLS token (Swin) pass
``cls_token=False`` with (B, H, L, L) and (B, L, D): the CLS terms then give way to how much each
token is attended by the others. Pure tensor code: no mmengine.
"""
import torch

_EPS = 1e-12


def amt_weights(attn: torch.Tensor, cls_token: bool = True) -> torch.Tensor:
    """AMT: CLS->patch attention, min-max normalised over the L patches per head, mean over heads.

    Without a CLS token, each token's mean attention received from all tokens takes its place.
    """
    per_head = attn[:, :, 0, 1:].float() if cls_token else attn.float().mean(dim=2)
    low = per_head.amin(dim=-1, keepdim=True)
    high = per_head.amax(dim=-1, keepdim=True)
    return ((per_head - low) / (high - low).clamp_min(_EPS)).mean(dim=1)


def famt_attention(attn: torch.Tensor) -> torch.Tensor:
    """FAMT's attention term ``cls + img`` (B, L).

    ``cls``: CLS->patch attention, each head weighted by how much the patches attend to CLS.
    ``img``: how much each patch is attended by the other patches, each head weighted by CLS->CLS.
    """
    attn = attn.float()
    cls_to_patch = attn[:, :, 0, 1:]
    patch_to_cls = attn[:, :, 1:, 0].mean(dim=-1, keepdim=True)
    cls_term = (cls_to_patch * patch_to_cls).mean(dim=1)
    attended = attn[:, :, 1:, 1:].mean(dim=2)
    cls_to_cls = attn[:, :, 0, 0].unsqueeze(-1)
    img_term = (attended * cls_to_cls).mean(dim=1)
    return cls_term + img_term


def lowpass_kernel(length: int, sigma_ratio: float = 0.075,
                   device: torch.device = None) -> torch.Tensor:
    """``g(k) = 1 - exp(-(k - (L-1)/2)^2 / (2 s^2))``, ``s = sigma_ratio * L``, on unshifted FFT bins.

    The unshifted FFT keeps its highest frequencies in the middle, so ``g`` suppresses them.
    """
    k = torch.arange(length, dtype=torch.float32, device=device)
    sigma = sigma_ratio * length
    return 1.0 - torch.exp(-(k - (length - 1) / 2) ** 2 / (2 * sigma ** 2))


def frequency_factor(tokens: torch.Tensor, sigma_ratio: float = 0.075) -> torch.Tensor:
    """Low-pass energy of each patch token, about 1 on average (B, L).

    The patch tokens (B, L, D) are L samples of D signals: orthonormal FFT along the token axis,
    Gaussian low-pass, inverse FFT, magnitude summed over channels, divided by the image's mean
    absolute token activation (the mean over tokens of each token's summed absolute channels).
    """
    x = tokens.float()
    spectrum = torch.fft.fft(x, dim=1, norm='ortho')
    kernel = lowpass_kernel(x.shape[1], sigma_ratio, device=x.device)
    low = torch.fft.ifft(spectrum * kernel[None, :, None], dim=1, norm='ortho')
    energy = low.abs().sum(dim=-1)
    scale = x.abs().sum(dim=-1).mean(dim=1, keepdim=True)
    return energy / scale.clamp_min(_EPS)


def famt_weights(attn: torch.Tensor, tokens: torch.Tensor, sigma_ratio: float = 0.075,
                 cls_token: bool = True) -> torch.Tensor:
    """FAMT weight ``frequency_factor(patch tokens) * famt_attention(attn)`` (B, L).

    ``tokens`` holds the CLS token first, as the block outputs it. Without a CLS token the attention
    term is each token's mean attention received from all tokens, averaged over heads.
    """
    if not cls_token:
        return frequency_factor(tokens, sigma_ratio) * attn.float().mean(dim=2).mean(dim=1)
    return frequency_factor(tokens[:, 1:], sigma_ratio) * famt_attention(attn)


def softmax_attention(q: torch.Tensor, k: torch.Tensor, scale: float) -> torch.Tensor:
    """Materialised softmax attention (B, H, N, N) from (B, H, N, d) queries and keys, in fp32."""
    return (q.float() @ k.float().transpose(-2, -1) * scale).softmax(dim=-1)
