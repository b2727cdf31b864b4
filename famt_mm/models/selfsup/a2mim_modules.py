"""A²MIM's parts for a ResNet: the masked backbone, the light decoder and the loss.

A²MIM ("Architecture-Agnostic Masked Image Modeling -- From ViT Back to CNN", Li et al., ICML 2023,
arXiv 2205.13943) masks a CNN in two places: the masked patches of the input image are filled with
the image's mean colour, and a learnable mask token is added to the feature map at a middle stage
(after stage 3 of a ResNet), where the mask is resized to that stage's resolution. A 1x1 convolution
and a pixel shuffle decode the last feature map (as SimMIM), and the loss is L1 on the masked pixels
plus a focal frequency loss on the whole image. The public code is OpenMixup
(github.com/Westlake-AI/openmixup: ``MIMResNet``, ``NonLinearMIMNeck``, ``FAMTA2MIMHead``,
``FocalFrequencyLoss``, ``configs/selfsup/a2mim``); this is a rewrite on mmpretrain's classes.
"""

import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.models import ResNet, SimMIMLinearDecoder
from mmpretrain.registry import MODELS
from torch import nn

SPATIAL_LOSSES = ('l1', 'focal_l1')


def resize_mask(mask: torch.Tensor, size: Tuple[int, int], dtype: torch.dtype) -> torch.Tensor:
    """(B, h, w) 0/1 mask -> (B, 1, *size) of ``dtype`` by nearest resizing (exact repetition when
    ``size`` is a multiple of ``(h, w)``)."""
    if mask.dim() != 3:
        raise ValueError(f'the A2MIM mask must be (B, h, w), got shape {tuple(mask.shape)}')
    return F.interpolate(mask[:, None].to(dtype), size=size, mode='nearest')


def fill_mean_colour(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Masked pixels of (B, C, H, W) ``images`` replaced by each image's mean colour.

    Args:
        images: (B, C, H, W) normalised images.
        mask: (B, h, w) 0/1 mask on a grid that tiles the image (1 = masked).
    """
    height, width = images.shape[-2:]
    if height % mask.shape[-2] or width % mask.shape[-1]:
        raise ValueError(
            f'the {mask.shape[-2]}x{mask.shape[-1]} mask does not tile the '
            f'{height}x{width} image: use a mask grid dividing the image size'
        )
    pixels = resize_mask(mask, (height, width), images.dtype)
    mean = images.mean(dim=(2, 3), keepdim=True)
    return images * (1.0 - pixels) + mean * pixels


@MODELS.register_module()
class FAMTA2MIMResNet(ResNet):
    """mmpretrain's ResNet masked as A²MIM: mean-colour filling at the input, a mask token at a stage.

    ``forward(x, mask)`` fills the masked pixels of ``x`` with each image's mean colour, then adds
    the learnable mask token to the masked positions of the input of stage ``mask_layer`` (the mask
    resized to that stage's resolution). As OpenMixup's ResNet-50 recipe the token is residual
    (added to the features), and with ``mask_init > 0`` a learnable per-channel gamma, initialised to
    ``mask_init``, first scales the masked features. ``forward(x)`` is the plain ResNet (scoring,
    probing, fine-tuning load the same weights).

    Args:
        mask_layer (int): index of the stage whose input receives the mask token, in
            ``[0, num_stages)``; 3 (after the third stage, stride 16) as A²MIM on ResNet.
        mask_init (float): initial gamma of the masked features; 0 keeps them unscaled (no gamma).
            Defaults to 0; OpenMixup's ResNet-50 recipe uses 1e-6.
        **kwargs: the arguments of mmpretrain's ``ResNet``.
    """

    def __init__(self, mask_layer: int = 3, mask_init: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if not (isinstance(mask_layer, int) and 0 <= mask_layer < self.num_stages):
            raise ValueError(
                f'mask_layer must be a stage index in [0, {self.num_stages}), got {mask_layer!r}'
            )
        if not mask_init >= 0:
            raise ValueError(f'mask_init must be >= 0, got {mask_init!r}')
        self.mask_layer = mask_layer
        channels = getattr(self, self.res_layers[mask_layer])[0].in_channels
        self.mask_token = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.mask_gamma = (
            nn.Parameter(torch.full((1, channels, 1, 1), float(mask_init))) if mask_init > 0 else None
        )

    @property
    def out_stride(self) -> int:
        """Pixels per position of the last stage's map (stem and max-pool: 4)."""
        return 4 * math.prod(self.strides)

    def init_weights(self) -> None:
        super().init_weights()
        if not (isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained'):
            nn.init.trunc_normal_(self.mask_token, std=0.02)

    def add_mask_token(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Features ``x`` with the mask token added at the masked positions (mask resized to x)."""
        stage_mask = resize_mask(mask, x.shape[-2:], x.dtype)
        if self.mask_gamma is not None:
            x = x * (1.0 - stage_mask) + x * stage_mask * self.mask_gamma.to(x.dtype)
        return x + self.mask_token.to(x.dtype) * stage_mask

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor]:
        # follows ResNet.forward of mmpretrain 1.2.0, with the mean-colour filling and the mask token
        if mask is None:
            return super().forward(x)
        x = fill_mean_colour(x, mask)
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        x = self.maxpool(x)
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            if i == self.mask_layer:
                x = self.add_mask_token(x, mask)
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


@MODELS.register_module()
class FAMTA2MIMLinearDecoder(SimMIMLinearDecoder):
    """A²MIM's light decoder for CNNs: a 1x1 conv to ``encoder_stride ** 2 * 3`` channels and a pixel
    shuffle (OpenMixup's ``NonLinearMIMNeck`` without extra blocks), initialised as there (truncated
    normal, std 0.02, zero bias). ``forward`` takes the backbone's tuple and decodes its last map.

    Args:
        in_channels (int): channels of the last feature map.
        encoder_stride (int): pixels per position of that map.
    """

    def init_weights(self) -> None:
        conv = self.decoder[0]
        nn.init.trunc_normal_(conv.weight, std=0.02)
        nn.init.zeros_(conv.bias)

    def forward(self, x) -> torch.Tensor:
        return super().forward(x[-1] if isinstance(x, (tuple, list)) else x)


def focal_frequency_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Focal frequency loss (Jiang et al., ICCV 2021) as A²MIM configures it, in fp32.

    The 2-D orthonormal spectra of (B, C, H, W) ``pred`` and ``target`` are averaged over the batch;
    each frequency's squared distance is weighted by ``log(1 + |distance| ** alpha)`` normalised by
    its maximum over the whole batch (no gradient through the weights), then averaged. Zero for
    identical inputs.
    """
    diff = torch.fft.fft2(pred.float(), norm='ortho') - torch.fft.fft2(target.float(), norm='ortho')
    diff = diff.mean(dim=0, keepdim=True)  # the minibatch-average spectrum
    distance = diff.real**2 + diff.imag**2
    with torch.no_grad():
        weight = torch.log1p(distance.sqrt() ** alpha)
        weight = weight / weight.max().clamp_min(torch.finfo(weight.dtype).tiny)
    return (weight * distance).mean()


@MODELS.register_module()
class FAMTA2MIMHead(BaseModule):
    """A²MIM's loss: spatial loss on the masked pixels + ``fft_weight`` x focal frequency loss.

    The frequency loss sees the whole image: the prediction where masked, and elsewhere mostly
    ``0.5 * (prediction.detach() + target)`` (only ``fft_unmask_weight`` of the prediction keeps
    its gradient there), OpenMixup's ``fft_unmask_replace='mixed'``.

    Args:
        spatial_loss (str): ``'l1'`` (the paper's) or ``'focal_l1'`` (OpenMixup's ResNet recipe:
            ``l1 * (2 * sigmoid(0.2 * l1) - 1)``).
        fft_weight (float): weight of the frequency loss, >= 0; 0.5 as A²MIM on ResNet.
        fft_unmask_weight (float): share of the unmasked prediction in the frequency loss, in
            [0, 1]; 1e-3 as A²MIM on ResNet.
        fft_alpha (float): exponent of the focal frequency weights, > 0.
        init_cfg (dict, optional): mmengine's initialisation config.
    """

    def __init__(
        self,
        spatial_loss: str = 'l1',
        fft_weight: float = 0.5,
        fft_unmask_weight: float = 1e-3,
        fft_alpha: float = 1.0,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg)
        if spatial_loss not in SPATIAL_LOSSES:
            raise ValueError(f'spatial_loss must be one of {SPATIAL_LOSSES}, got {spatial_loss!r}')
        if not fft_weight >= 0:
            raise ValueError(f'fft_weight must be >= 0, got {fft_weight!r}')
        if not 0 <= fft_unmask_weight <= 1:
            raise ValueError(f'fft_unmask_weight must be in [0, 1], got {fft_unmask_weight!r}')
        if not fft_alpha > 0:
            raise ValueError(f'fft_alpha must be > 0, got {fft_alpha!r}')
        self.spatial_loss = spatial_loss
        self.fft_weight = fft_weight
        self.fft_unmask_weight = fft_unmask_weight
        self.fft_alpha = fft_alpha

    def spatial(self, pred: torch.Tensor, target: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
        """Mean spatial loss over the masked pixels and channels; ``pixels`` (B, 1, H, W) 0/1."""
        error = (pred.float() - target.float()).abs()
        if self.spatial_loss == 'focal_l1':
            error = error * (2.0 * torch.sigmoid(0.2 * error) - 1.0)
        return (error * pixels).sum() / (pixels.sum() * pred.shape[1]).clamp_min(1e-5)

    def frequency(self, pred: torch.Tensor, target: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
        """Focal frequency loss of the prediction completed outside the mask (see the class)."""
        kept = pixels + (1.0 - pixels) * self.fft_unmask_weight
        completed = pred * kept + 0.5 * (pred.detach() + target) * (1.0 - kept)
        return focal_frequency_loss(completed, target, self.fft_alpha)

    def loss(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The A²MIM loss of reconstructions ``pred`` of ``target`` (both (B, 3, H, W)) where the
        (B, h, w) ``mask`` (on a grid tiling the image) is 1."""
        if pred.shape != target.shape:
            raise ValueError(
                f'the decoder gives {tuple(pred.shape)} for images of '
                f"{tuple(target.shape)}: neck.encoder_stride must be the backbone's "
                f'output stride'
            )
        pixels = resize_mask(mask, target.shape[-2:], torch.float32)
        loss = self.spatial(pred, target, pixels)
        if self.fft_weight > 0:
            loss = loss + self.fft_weight * self.frequency(pred.float(), target.float(), pixels)
        return loss
