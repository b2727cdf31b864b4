"""Builders of tiny FAMT-BEiT (v1, v2) and FAMT-CAE models and runs for tests.

All run at 32 px in 4-px patches (an 8 x 8 grid, 64 patches) with 2- or 3-block, 32-dim ViTs and
randomly initialised tiny tokenizers: a 1-block VQKD of 16 codes (BEiT v2, second picture 32 px) and
a DALL-E encoder of 8 hidden channels and 16 codes (BEiT v1, CAE; it downsamples 8 times, so its
second picture is 64 px).
"""

import copy

from . import demo_cfg, whole_image_pipeline

IMG_SIZE = 32
PATCH_SIZE = 4
ARCH = dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64)
#: 24 of 64 patches masked, 16 thrown, 24 visible once guided
RATIOS = dict(mask_ratio=0.375, throw_ratio=0.25, warmup_mask_ratio=0.375)


def _preprocessor(mask_generator, second_mean, second_std) -> dict:
    return dict(
        type='FAMTTwoNormDataPreprocessor',
        mask_generator=mask_generator or dict(type='FAMTMaskGenerator', **RATIOS),
        patch_size=PATCH_SIZE,
        mean=[127.5] * 3,
        std=[127.5] * 3,
        second_mean=second_mean,
        second_std=second_std,
    )


def _dalle() -> dict:
    return dict(type='DALL-E', n_hid=8, vocab_size=16)


def tiny_beitv2_cfg(mask_generator: dict = None) -> dict:
    """Model config of a tiny FAMT-BEiT v2: a 3-block ViT whose blocks 1 and 2 feed a 1-layer neck,
    and a random VQKD tokenizer on the same 32-px picture."""
    arch = dict(ARCH, num_layers=3)
    vqkd_encoder = dict(
        arch=dict(ARCH, num_layers=1),
        img_size=IMG_SIZE,
        patch_size=PATCH_SIZE,
        out_type='featmap',
        use_abs_pos_emb=True,
        use_rel_pos_bias=False,
        use_shared_rel_pos_bias=False,
        layer_scale_init_value=0.0,
    )
    return dict(
        type='FAMTBEiT',
        data_preprocessor=_preprocessor(mask_generator, [127.5] * 3, [127.5] * 3),
        backbone=dict(
            type='FAMTBEiTPretrainViT',
            arch=arch,
            img_size=IMG_SIZE,
            patch_size=PATCH_SIZE,
            out_indices=[-2, -1],
            final_norm=False,
            out_type='raw',
            layer_scale_init_value=0.1,
        ),
        neck=dict(
            type='BEiTV2Neck',
            num_layers=1,
            early_layers=2,
            backbone_arch=dict(arch, depth=3),
            layer_scale_init_value=0.1,
        ),
        head=dict(type='BEiTV2Head', embed_dims=32, num_embed=16, loss=dict(type='CrossEntropyLoss')),
        target_generator=dict(
            type='VQKD', encoder_config=vqkd_encoder, num_embed=16, embed_dims=8, quantize_kmeans_init=False
        ),
    )


def tiny_beit_cfg(mask_generator: dict = None) -> dict:
    """Model config of a tiny FAMT-BEiT v1: a 2-block ViT, no neck, a random DALL-E tokenizer."""
    return dict(
        type='FAMTBEiT',
        data_preprocessor=_preprocessor(mask_generator, [-31.875] * 3, [318.75] * 3),
        backbone=dict(
            type='FAMTBEiTPretrainViT',
            arch=ARCH,
            img_size=IMG_SIZE,
            patch_size=PATCH_SIZE,
            final_norm=True,
            out_type='raw',
            layer_scale_init_value=0.1,
        ),
        neck=None,
        head=dict(type='BEiTV1Head', embed_dims=32, num_embed=16, loss=dict(type='CrossEntropyLoss')),
        target_generator=_dalle(),
    )


def tiny_cae_cfg(mask_generator: dict = None, mask_tokens_num: int = 24) -> dict:
    """Model config of a tiny FAMT-CAE: a 2-block encoder, 1-block regressor and decoder, a random
    DALL-E tokenizer; the neck holds the 24 mask tokens of :data:`RATIOS`."""
    return dict(
        type='FAMTCAE',
        data_preprocessor=_preprocessor(mask_generator, [-31.875] * 3, [318.75] * 3),
        backbone=dict(
            type='FAMTCAEPretrainViT',
            arch=ARCH,
            img_size=IMG_SIZE,
            patch_size=PATCH_SIZE,
            layer_scale_init_value=0.1,
            bias='qv_bias',
        ),
        neck=dict(
            type='CAENeck',
            num_classes=16,
            embed_dims=32,
            num_heads=4,
            regressor_depth=1,
            decoder_depth=1,
            mlp_ratio=2,
            layer_scale_init_value=0.1,
            mask_tokens_num=mask_tokens_num,
        ),
        head=dict(type='CAEHead', loss=dict(type='CAELoss', lambd=2)),
        target_generator=_dalle(),
        base_momentum=0.0,
    )


def two_picture_demo_cfg(work_dir, model: dict, second_size: int, num_images: int = 16):
    """:func:`demo_cfg` (3 epochs, refresh before epoch 1) with a two-picture model and pipeline:
    BEiT's flip, then the two-picture crop recording its box."""
    cfg = demo_cfg(
        work_dir, max_epochs=3, start_epoch=1, interval=2, num_images=num_images, img_size=IMG_SIZE
    )
    cfg.model = copy.deepcopy(model)
    cfg.train_dataloader.dataset.pipeline = [
        dict(type='Resize', scale=(IMG_SIZE, IMG_SIZE), interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(
            type='FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox',
            size=IMG_SIZE,
            second_size=second_size,
            interpolation='bicubic',
            second_interpolation='bicubic',
            scale=(0.4, 1.0),
        ),
        dict(type='PackFAMTInputs'),
    ]
    # the two-picture crop: no scoring pipeline is derived around it
    cfg.custom_hooks[0].pipeline = whole_image_pipeline(IMG_SIZE)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=3)
    return cfg
