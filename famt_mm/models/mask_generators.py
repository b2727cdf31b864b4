"""Mask generators selectable from the config: MAE's random masking, AMT and FAMT.

A generator holds the masking ratios and, for the guided ones, the importance formula that the refresh
hook applies to the last block. Sampling itself is the one core function for all of them.
"""
from typing import Optional

import torch
from mmpretrain.registry import MODELS

from ..core import amt_weights, check_ratios, famt_weights


class BaseMaskGenerator:
    """Masking ratios and importance formula.

    Args:
        mask_ratio (float): share of patches (or masking units) to mask, in [0, 1).
        throw_ratio (float): share to throw away, in [0, 1); ``mask_ratio + throw_ratio < 1``.
        warmup_mask_ratio (float): random mask ratio (no throwing) used until the first refresh has
            produced importance maps. Defaults to MAE's 0.75.
    """
    #: whether sampling needs importance maps from the refresh hook
    needs_importance = True

    def __init__(self, mask_ratio: float, throw_ratio: float = 0.0, warmup_mask_ratio: float = 0.75):
        check_ratios(mask_ratio, throw_ratio)
        check_ratios(warmup_mask_ratio, 0.0)
        self.mask_ratio = float(mask_ratio)
        self.throw_ratio = float(throw_ratio)
        self.warmup_mask_ratio = float(warmup_mask_ratio)

    def importance(self, attn: torch.Tensor, tokens: torch.Tensor,
                   cls_token: bool = True) -> torch.Tensor:
        """(B, L) weights from the last block's attention (B, H, N, N) and output tokens (B, N, D);
        ``N = 1 + L`` with a CLS token first, ``N = L`` for backbones without one (Swin)."""
        raise NotImplementedError(f'{type(self).__name__} draws uniformly and scores nothing')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(mask_ratio={self.mask_ratio}, throw_ratio={self.throw_ratio}, '
                f'warmup_mask_ratio={self.warmup_mask_ratio})')


@MODELS.register_module()
class RandomMaskGenerator(BaseMaskGenerator):
    """Uniformly random masking (and throwing): MAE's masking at ``mask_ratio=0.75, throw_ratio=0``.

    Needs no refresh: the same ratios apply from the first step.
    """
    needs_importance = False

    def __init__(self, mask_ratio: float = 0.75, throw_ratio: float = 0.0):
        super().__init__(mask_ratio, throw_ratio, warmup_mask_ratio=mask_ratio)


@MODELS.register_module()
class AMTMaskGenerator(BaseMaskGenerator):
    """AMT: weights from the CLS token's attention to the patches (min-max per head, mean of heads)."""

    def __init__(self, mask_ratio: float = 0.45, throw_ratio: float = 0.40,
                 warmup_mask_ratio: float = 0.75):
        super().__init__(mask_ratio, throw_ratio, warmup_mask_ratio)

    def importance(self, attn: torch.Tensor, tokens: Optional[torch.Tensor] = None,
                   cls_token: bool = True) -> torch.Tensor:
        return amt_weights(attn, cls_token)


@MODELS.register_module()
class FAMTMaskGenerator(BaseMaskGenerator):
    """FAMT: head-weighted attention times the low-pass frequency factor of the patch tokens.

    Args:
        sigma_ratio (float): width of the Gaussian low-pass kernel as a share of the token count.
            Defaults to 0.075 as in the paper.
    """

    def __init__(self, mask_ratio: float = 0.45, throw_ratio: float = 0.40,
                 warmup_mask_ratio: float = 0.75, sigma_ratio: float = 0.075):
        super().__init__(mask_ratio, throw_ratio, warmup_mask_ratio)
        if not sigma_ratio > 0:
            raise ValueError(f'sigma_ratio must be positive, got {sigma_ratio!r}')
        self.sigma_ratio = float(sigma_ratio)

    def importance(self, attn: torch.Tensor, tokens: torch.Tensor,
                   cls_token: bool = True) -> torch.Tensor:
        return famt_weights(attn, tokens, self.sigma_ratio, cls_token)
