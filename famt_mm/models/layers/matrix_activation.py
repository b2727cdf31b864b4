"""Trainable matrix activation (Liu, Cao, Li and Zikatanov, "Neural networks with trainable matrix
activation functions", arXiv 2109.09948): ``sigma(y) = D(y) y``.

In the diagonal form ``D(y) = diag(a(y_1), ..., a(y_n))``, ``a`` piecewise constant on the intervals
that the knots cut the real line into, its levels trained with the weights: only comparisons and
scalar multiplications. ReLU is one knot at 0 with levels 0 and 1. The tri-diagonal form adds the
neighbours along the channel axis, each through its own piecewise-constant coefficient. Details the
abstract leaves open (shared or per-channel levels, how knots are trained, the tri-diagonal
coefficients' arguments) are settings; ``docs/method.md`` section 10 gives this package's reading.
"""

import math
from typing import Optional, Sequence, Tuple

import torch
from mmpretrain.registry import MODELS
from torch import nn

from ...core import check_choice

#: ``D(y)`` diagonal, or tri-diagonal along the channel axis
MATRIX_FORMS: Tuple[str, ...] = ('diagonal', 'tridiagonal')


def relu_levels(knots: Sequence[float]) -> Tuple[float, ...]:
    """Levels that make the activation ReLU where it can: 1 on the intervals at or above 0, else 0.

    Exactly ReLU when 0 is a knot; otherwise the interval holding 0 gets 0.
    """
    lower_ends = (-math.inf, *knots)
    return tuple(1.0 if low >= 0 else 0.0 for low in lower_ends)


def evenly_spaced_knots(num_intervals: int, knot_range: Sequence[float]) -> Tuple[float, ...]:
    """``num_intervals - 1`` knots evenly spaced over ``knot_range`` (both ends included)."""
    low, high = knot_range
    if num_intervals == 2:
        return ((low + high) / 2,)
    step = (high - low) / (num_intervals - 2)
    return tuple(low + i * step for i in range(num_intervals - 1))


def _check_number_list(name: str, values, allow_empty: bool = True) -> Tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, '__len__'):
        raise ValueError(f'{name} must be a sequence of numbers, got {values!r}')
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f'{name} must hold finite numbers, got {tuple(values)!r}')
        out.append(float(v))
    if not out and not allow_empty:
        raise ValueError(f'{name} must not be empty')
    return tuple(out)


@MODELS.register_module()
class FAMTMatrixActivation(nn.Module):
    """``sigma(y) = D(y) y`` with piecewise-constant, trainable entries of ``D``.

    The knots ``t_1 < ... < t_K`` cut the real line into the K + 1 intervals ``(-inf, t_1]``,
    ``(t_1, t_2]``, ..., ``(t_K, inf)`` (a value at a knot belongs to the interval on its left, so
    that with the ReLU setting ``y = 0`` gets level 0 and gradient 0 as ``torch.relu``). ``a(y)`` is
    the level of the interval holding ``y``.

    - diagonal: ``sigma(y)_i = a(y_i) y_i``; its gradient is ``a(y_i)`` almost everywhere.
    - tridiagonal: ``sigma(y)_i = a(y_i) y_i + b(y_{i-1}) y_{i-1} + c(y_{i+1}) y_{i+1}`` along the
      channel axis (zero beyond its ends), ``b`` and ``c`` piecewise constant on the same knots,
      each coefficient a function of the entry it multiplies; ``b`` and ``c`` start at 0, so the
      layer starts as the diagonal form.

    Args:
        knots (Sequence[float], optional): the knots, strictly increasing; may be empty (one
            interval: a trained linear map). Defaults to None: ``num_intervals - 1`` knots evenly
            spaced over ``knot_range``, or ReLU's single knot at 0 when ``num_intervals`` is None too.
        num_intervals (int, optional): the number of intervals, >= 1; with ``knots`` it must be
            ``len(knots) + 1``. Defaults to None.
        knot_range (Sequence[float]): ``(low, high)``, low < high, spanned by evenly spaced knots.
            Defaults to (-2, 2).
        levels (Sequence[float], optional): the initial levels of ``a``, one per interval. Defaults
            to None: :func:`relu_levels` (ReLU when 0 is a knot).
        trainable_levels (bool): whether the levels are trained. Defaults to True.
        trainable_knots (bool): whether the knots are trained too. A step has no useful derivative
            with respect to its position, so the knots' gradient is that of the same function with
            each step replaced by a sigmoid of width ``knot_temperature`` (the forward value and the
            gradients of the input and levels stay exact). Knots that cross while training are used
            in sorted order. Defaults to False.
        knot_temperature (float): that sigmoid's width, > 0. Defaults to 0.1.
        num_channels (int, optional): levels per channel for this many channels along
            ``channel_dim``; None shares one set of levels among all channels. mmcv's FFN builds its
            activation from ``act_cfg`` alone, so per-channel levels need the width stated here.
            Defaults to None.
        channel_dim (int): the channel axis of the input: -1 for ViT FFNs and ConvNeXt's
            channels-last blocks, 1 for (N, C, H, W) maps. Used by per-channel levels and the
            tri-diagonal form. Defaults to -1.
        form (str): ``'diagonal'`` or ``'tridiagonal'``. Defaults to ``'diagonal'``.
    """

    def __init__(
        self,
        knots: Optional[Sequence[float]] = None,
        num_intervals: Optional[int] = None,
        knot_range: Sequence[float] = (-2.0, 2.0),
        levels: Optional[Sequence[float]] = None,
        trainable_levels: bool = True,
        trainable_knots: bool = False,
        knot_temperature: float = 0.1,
        num_channels: Optional[int] = None,
        channel_dim: int = -1,
        form: str = 'diagonal',
    ):
        super().__init__()
        check_choice('form', form, MATRIX_FORMS)
        if num_intervals is not None and (
            isinstance(num_intervals, bool) or not isinstance(num_intervals, int) or num_intervals < 1
        ):
            raise ValueError(f'num_intervals must be an integer >= 1, got {num_intervals!r}')
        if knots is None:
            if num_intervals is None:
                knots = (0.0,)
            else:
                low_high = _check_number_list('knot_range', knot_range)
                if len(low_high) != 2 or not low_high[0] < low_high[1]:
                    raise ValueError(f'knot_range must be (low, high) with low < high, got {knot_range!r}')
                knots = evenly_spaced_knots(num_intervals, low_high) if num_intervals > 1 else ()
        knots = _check_number_list('knots', knots)
        if any(b <= a for a, b in zip(knots, knots[1:])):
            raise ValueError(f'knots must be strictly increasing, got {knots!r}')
        if num_intervals is not None and num_intervals != len(knots) + 1:
            raise ValueError(
                f'num_intervals must be len(knots) + 1 = {len(knots) + 1} for knots '
                f'{knots!r}, got {num_intervals}'
            )
        levels = relu_levels(knots) if levels is None else _check_number_list('levels', levels)
        if len(levels) != len(knots) + 1:
            raise ValueError(
                f'levels must hold one value per interval, len(knots) + 1 = '
                f'{len(knots) + 1} for knots {knots!r}, got {len(levels)}: {levels!r}'
            )
        if trainable_knots and not knots:
            raise ValueError('trainable_knots=True needs at least one knot, got knots=()')
        if not (isinstance(knot_temperature, (int, float)) and knot_temperature > 0):
            raise ValueError(f'knot_temperature must be a number > 0, got {knot_temperature!r}')
        if num_channels is not None and (
            isinstance(num_channels, bool) or not isinstance(num_channels, int) or num_channels < 1
        ):
            raise ValueError(
                f'num_channels must be None (shared levels) or an integer >= 1, got {num_channels!r}'
            )
        if isinstance(channel_dim, bool) or not isinstance(channel_dim, int):
            raise ValueError(f'channel_dim must be an integer axis, got {channel_dim!r}')
        self.form = form
        self.num_channels = num_channels
        self.channel_dim = channel_dim
        self.knot_temperature = float(knot_temperature)
        self.trainable_knots = bool(trainable_knots)
        # rows: the diagonal's levels, then (tri-diagonal) those of the lower and upper neighbours
        rows = 1 if form == 'diagonal' else 3
        init = torch.zeros(rows, num_channels or 1, len(levels))
        init[0] = torch.tensor(levels)
        self.levels = nn.Parameter(init, requires_grad=trainable_levels)
        knot_tensor = torch.tensor(knots, dtype=torch.float32)
        if trainable_knots:
            self.knots = nn.Parameter(knot_tensor)
        else:
            self.register_buffer('knots', knot_tensor)

    def extra_repr(self) -> str:
        return (
            f'knots={tuple(round(k, 4) for k in self.knots.tolist())}, form={self.form!r}, '
            f'num_channels={self.num_channels}, trainable_knots={self.trainable_knots}'
        )

    def _channel_shape(self, y: torch.Tensor) -> Tuple[int, ...]:
        """Shape that broadcasts a per-channel tensor (C,) along ``channel_dim`` of ``y``."""
        shape = [1] * y.dim()
        shape[self.channel_dim] = -1
        return tuple(shape)

    def coefficient(self, y: torch.Tensor, row: int, knots: torch.Tensor) -> torch.Tensor:
        """The piecewise-constant coefficient of ``levels[row]`` at each entry of ``y``."""
        index = torch.bucketize(y.detach(), knots.detach())  # t_{i-1} < y <= t_i  ->  i
        levels = self.levels[row].to(y.dtype)  # (C or 1, K + 1)
        if self.num_channels is None:
            value = levels[0][index]
        else:
            if y.shape[self.channel_dim] != self.num_channels:
                raise ValueError(
                    f'FAMTMatrixActivation has num_channels={self.num_channels} but the input '
                    f'has {y.shape[self.channel_dim]} along channel_dim='
                    f'{self.channel_dim} (shape {tuple(y.shape)})'
                )
            channel = torch.arange(self.num_channels, device=y.device).view(self._channel_shape(y))
            value = levels.reshape(-1)[channel * levels.shape[-1] + index]
        if self.trainable_knots and self.training:
            value = value + self._knot_surrogate(y, row, knots)
        return value

    def _knot_surrogate(self, y: torch.Tensor, row: int, knots: torch.Tensor) -> torch.Tensor:
        """Zero in value; its gradient reaches the knots as if each step were a sigmoid."""
        steps = self.levels[row].detach().to(y.dtype)
        jumps = steps[..., 1:] - steps[..., :-1]  # (C or 1, K): the level change at each knot
        soft = torch.sigmoid((y.detach().unsqueeze(-1) - knots.to(y.dtype)) / self.knot_temperature)
        if self.num_channels is None:
            smooth = (soft * jumps[0]).sum(-1)
        else:
            per_channel = jumps.view(*self._channel_shape(y), jumps.shape[-1])
            smooth = (soft * per_channel).sum(-1)
        return smooth - smooth.detach()

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        knots = torch.sort(self.knots).values if self.trainable_knots else self.knots
        out = self.coefficient(y, 0, knots) * y
        if self.form == 'tridiagonal':
            dim, size = self.channel_dim, y.shape[self.channel_dim]
            lower = self.coefficient(y, 1, knots) * y  # enters channel i + 1
            upper = self.coefficient(y, 2, knots) * y  # enters channel i - 1
            zero = torch.zeros_like(y.narrow(dim, 0, 1))
            out = out + torch.cat((zero, lower.narrow(dim, 0, size - 1)), dim)
            out = out + torch.cat((upper.narrow(dim, 1, size - 1), zero), dim)
        return out
