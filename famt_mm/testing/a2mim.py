"""Builders of tiny A²MIM models for tests: a ResNet-18 with 8 base channels at 96 px."""

from typing import Optional

#: the tiny backbone: stages of 8 / 16 / 32 / 64 channels, 32-px output stride (3 x 3 at 96 px)
TINY_RESNET = dict(
    type='FAMTA2MIMResNet',
    depth=18,
    stem_channels=8,
    base_channels=8,
    out_indices=(3,),
    mask_layer=3,
    mask_init=1e-6,
)


def tiny_a2mim_cfg(mask_generator: Optional[dict] = None, famt: bool = True) -> dict:
    """Model config of a tiny A²MIM (ResNet-18, 8 base channels, mask token before the last stage).

    Args:
        mask_generator (dict, optional): the FAMT preprocessor's generator. Defaults to frequency-only
            FAMT masking 0.6 of the 32-px units, nothing thrown.
        famt (bool): ``FAMTA2MIM`` with ``FAMTDataPreprocessor`` (patch and unit 32 px); False gives
            the arguments of ``A2MIM`` (unregistered: build it with :func:`build_a2mim`) with
            mmpretrain's preprocessor, its mask read from the data samples.
    """
    normalise = dict(mean=[127.5] * 3, std=[127.5] * 3)
    if famt:
        mask_generator = mask_generator or dict(
            type='FAMTMaskGenerator',
            mask_ratio=0.6,
            throw_ratio=0.0,
            warmup_mask_ratio=0.6,
            throw_mode='off',
            weight_source='frequency',
        )
        preprocessor = dict(
            type='FAMTDataPreprocessor', mask_generator=mask_generator, patch_size=32, **normalise
        )
    else:
        preprocessor = dict(type='SelfSupDataPreprocessor', **normalise)
    return dict(
        type='FAMTA2MIM' if famt else None,
        data_preprocessor=preprocessor,
        backbone=dict(TINY_RESNET),
        neck=dict(type='FAMTA2MIMLinearDecoder', in_channels=64, encoder_stride=32),
        head=dict(type='FAMTA2MIMHead', fft_weight=0.5, fft_unmask_weight=1e-3),
    )


def build_a2mim(cfg: dict):
    """The unregistered ``A2MIM`` (the pipeline's mask) of a :func:`tiny_a2mim_cfg` ``(famt=False)``."""
    from famt_mm.models import A2MIM

    return A2MIM(**{key: value for key, value in cfg.items() if key != 'type'})
