"""Mask generators selectable from the config: MAE's random masking, AMT and FAMT.

A generator holds the masking ratios, how counts are rounded, which group is thrown and, for the
guided ones, the importance formula that the refresh hook applies to the last block. Sampling itself
is the one core function for all of them. Every switch defaults to the published behaviour; a switch
set to something that cannot take effect is an error, not a silent no-op (``docs/method.md``
section 6).
"""

from typing import Optional, Sequence

import torch
from mmpretrain.registry import MODELS

from ...core import (
    ATTENTION_TERMS,
    COUNT_ROUNDINGS,
    FREQUENCY_FILTERS,
    SIGMA_RATIO,
    WEIGHT_SOURCES,
    amt_weights,
    check_attention_terms,
    check_choice,
    check_ratios,
    famt_weights,
)

#: which patches are thrown: none (guided masking only), the group drawn right after the masked ones
#: (the public code), or the lowest-weight ones
THROW_MODES = ('off', 'middle', 'lowest')


class BaseMaskGenerator:
    """Masking ratios, count rounding, throwing and importance formula.

    Args:
        mask_ratio (float): share of patches (or masking units) to mask, in [0, 1).
        throw_ratio (float): share to throw away, in [0, 1); ``mask_ratio + throw_ratio < 1``.
        warmup_mask_ratio (float): random mask ratio (no throwing) used until the first refresh has
            produced importance maps. Defaults to MAE's 0.75; the SimMIM reference code uses 0.44.
        count_rounding (str): ``'floor_cumulative'`` (the MAE reference code) or ``'ceil_each'``
            (the SimMIM reference code), see :func:`famt_mm.core.plan_counts`. Also used during the
            warm-up. Defaults to ``'floor_cumulative'``.
        throw_mode (str): ``'middle'`` throws the group drawn right after the masked ones and keeps
            the lowest-weight patches visible (the public code); ``'lowest'`` throws the lowest-weight
            ones; ``'off'`` throws nothing (guided masking only, needs ``throw_ratio=0``).
            Defaults to ``'middle'``.
    """

    #: whether sampling needs importance maps from the refresh hook
    needs_importance = True

    def __init__(
        self,
        mask_ratio: float,
        throw_ratio: float = 0.0,
        warmup_mask_ratio: float = 0.75,
        count_rounding: str = 'floor_cumulative',
        throw_mode: str = 'middle',
    ):
        check_ratios(mask_ratio, throw_ratio)
        check_ratios(warmup_mask_ratio, 0.0, ('warmup_mask_ratio', 'throw_ratio'))
        check_choice('count_rounding', count_rounding, COUNT_ROUNDINGS)
        check_choice('throw_mode', throw_mode, THROW_MODES)
        if throw_mode == 'off' and throw_ratio > 0:
            raise ValueError(
                f"throw_mode='off' throws nothing: set throw_ratio=0 (got throw_ratio={throw_ratio})"
            )
        if throw_mode == 'lowest' and throw_ratio == 0:
            raise ValueError(
                "throw_mode='lowest' has nothing to throw with throw_ratio=0: set "
                "throw_ratio in (0, 1 - mask_ratio) or use throw_mode='off'"
            )
        self.mask_ratio = float(mask_ratio)
        self.throw_ratio = float(throw_ratio)
        self.warmup_mask_ratio = float(warmup_mask_ratio)
        self.count_rounding = count_rounding
        self.throw_mode = throw_mode

    @property
    def throw_from(self) -> str:
        """The ``throw_from`` argument of :func:`famt_mm.core.sample_plan` for this throw mode."""
        return 'lowest' if self.throw_mode == 'lowest' else 'middle'

    def importance(self, attn: torch.Tensor, tokens: torch.Tensor, cls_token: bool = True) -> torch.Tensor:
        """(B, L) weights from the last block's attention (B, H, N, N) and output tokens (B, N, D);
        ``N = 1 + L`` with a CLS token first, ``N = L`` for backbones without one (Swin)."""
        raise NotImplementedError(f'{type(self).__name__} draws uniformly and scores nothing')

    def settings(self) -> dict:
        """The generator's config values (what ``__repr__`` shows)."""
        return dict(
            mask_ratio=self.mask_ratio,
            throw_ratio=self.throw_ratio,
            warmup_mask_ratio=self.warmup_mask_ratio,
            count_rounding=self.count_rounding,
            throw_mode=self.throw_mode,
        )

    def __repr__(self) -> str:
        args = ', '.join(f'{key}={value!r}' for key, value in self.settings().items())
        return f'{type(self).__name__}({args})'


@MODELS.register_module()
class FAMTRandomMaskGenerator(BaseMaskGenerator):
    """Uniformly random masking (and throwing): MAE's masking at ``mask_ratio=0.75, throw_ratio=0``.

    Needs no refresh: the same ratios apply from the first step. With uniform weights it does not
    matter which group is thrown, so there is no ``throw_mode``.

    Args:
        mask_ratio (float): share to mask. Defaults to 0.75.
        throw_ratio (float): share to throw. Defaults to 0.
        count_rounding (str): see :class:`BaseMaskGenerator`; ``'ceil_each'`` is SimMIM's own.
    """

    needs_importance = False

    def __init__(
        self, mask_ratio: float = 0.75, throw_ratio: float = 0.0, count_rounding: str = 'floor_cumulative'
    ):
        super().__init__(mask_ratio, throw_ratio, warmup_mask_ratio=mask_ratio, count_rounding=count_rounding)

    def settings(self) -> dict:
        return dict(
            mask_ratio=self.mask_ratio, throw_ratio=self.throw_ratio, count_rounding=self.count_rounding
        )


@MODELS.register_module()
class AMTMaskGenerator(BaseMaskGenerator):
    """AMT: weights from the CLS token's attention to the patches (min-max per head, mean of heads).

    Args: as :class:`BaseMaskGenerator`, with AMT's MAE defaults 0.45 / 0.40.
    """

    def __init__(
        self,
        mask_ratio: float = 0.45,
        throw_ratio: float = 0.40,
        warmup_mask_ratio: float = 0.75,
        count_rounding: str = 'floor_cumulative',
        throw_mode: str = 'middle',
    ):
        super().__init__(mask_ratio, throw_ratio, warmup_mask_ratio, count_rounding, throw_mode)

    def importance(
        self, attn: torch.Tensor, tokens: Optional[torch.Tensor] = None, cls_token: bool = True
    ) -> torch.Tensor:
        return amt_weights(attn, cls_token)


@MODELS.register_module()
class FAMTMaskGenerator(BaseMaskGenerator):
    """FAMT: head-weighted attention times the low-pass frequency factor of the patch tokens.

    Besides the arguments of :class:`BaseMaskGenerator` (FAMT's MAE defaults 0.45 / 0.40), the
    switches of the paper's ablations, each defaulting to FAMT as published:

    Args:
        weight_source (str): ``'fused'`` (frequency x attention, FAMT), ``'attention'`` (FAMT's
            attention term alone) or ``'frequency'`` (the frequency factor alone). AMT's own
            attention formula is :class:`AMTMaskGenerator`. Defaults to ``'fused'``.
        attention_terms (Sequence[str]): the terms of the attention weight, a non-empty subset of
            ``('cls', 'img')``. Defaults to both. Only for backbones with a CLS token.
        frequency_filter (str): ``'lowpass'`` (kernel centred at ``(L - 1) / 2`` as the public code),
            ``'lowpass_symmetric'`` (centred at ``L / 2``, a real filter) or ``'none'`` (no filter:
            each token's activation magnitude). Defaults to ``'lowpass'``.
        sigma_ratio (float): width of the Gaussian low-pass kernel as a share of the token count.
            Defaults to :data:`famt_mm.core.SIGMA_RATIO` (0.075), as published.
    """

    def __init__(
        self,
        mask_ratio: float = 0.45,
        throw_ratio: float = 0.40,
        warmup_mask_ratio: float = 0.75,
        sigma_ratio: float = SIGMA_RATIO,
        count_rounding: str = 'floor_cumulative',
        throw_mode: str = 'middle',
        weight_source: str = 'fused',
        attention_terms: Sequence[str] = ATTENTION_TERMS,
        frequency_filter: str = 'lowpass',
    ):
        super().__init__(mask_ratio, throw_ratio, warmup_mask_ratio, count_rounding, throw_mode)
        check_choice('weight_source', weight_source, WEIGHT_SOURCES)
        check_choice('frequency_filter', frequency_filter, FREQUENCY_FILTERS)
        attention_terms = check_attention_terms(attention_terms)
        if not (isinstance(sigma_ratio, (int, float)) and sigma_ratio > 0):
            raise ValueError(f'sigma_ratio must be positive, got {sigma_ratio!r}')
        # settings that cannot act on the weights are refused, so an ablation never runs unchanged
        if weight_source == 'attention' and (frequency_filter != 'lowpass' or sigma_ratio != SIGMA_RATIO):
            raise ValueError(
                f"weight_source='attention' uses no frequency factor: leave "
                f"frequency_filter='lowpass' and sigma_ratio={SIGMA_RATIO} "
                f'(got {frequency_filter!r}, {sigma_ratio})'
            )
        if weight_source == 'frequency' and attention_terms != ATTENTION_TERMS:
            raise ValueError(
                f"weight_source='frequency' uses no attention: leave attention_terms="
                f'{ATTENTION_TERMS!r} (got {attention_terms!r})'
            )
        if frequency_filter == 'none' and sigma_ratio != SIGMA_RATIO:
            raise ValueError(
                f"frequency_filter='none' has no kernel: leave sigma_ratio={SIGMA_RATIO} (got {sigma_ratio})"
            )
        self.sigma_ratio = float(sigma_ratio)
        self.weight_source = weight_source
        self.attention_terms = attention_terms
        self.frequency_filter = frequency_filter

    def settings(self) -> dict:
        return dict(
            super().settings(),
            weight_source=self.weight_source,
            attention_terms=self.attention_terms,
            frequency_filter=self.frequency_filter,
            sigma_ratio=self.sigma_ratio,
        )

    def importance(self, attn: torch.Tensor, tokens: torch.Tensor, cls_token: bool = True) -> torch.Tensor:
        return famt_weights(
            attn,
            tokens,
            self.sigma_ratio,
            cls_token,
            source=self.weight_source,
            terms=self.attention_terms,
            filter=self.frequency_filter,
        )
