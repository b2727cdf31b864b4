# FAMT-CAE: the Context Autoencoder (DALL-E visual tokens, latent regressor), ViT-B/16, ImageNet-1K,
# 224 px, 300 epochs, 8 GPUs x 256. CAE's recipe, DALL-E tokenizer (published weights) and runtime
# are inherited from mmpretrain's CAE config; the pipeline's block-wise mask is replaced by FAMT's
# plan (guided masking per patch and throwing: thrown patches reach neither the encoder nor the
# regressor, decoder or loss). No FAMT run of CAE has been published: the ratios below are this
# package's choice.
_base_ = 'mmpretrain::cae/cae_beit-base-p16_8xb256-amp-coslr-300e_in1k.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

# ---- FAMT knobs ---------------------------------------------------------------------------------
mask_ratio = 0.383  # share of the 196 patches masked (75, CAE's own count)
throw_ratio = 0.30  # share thrown (58 at 224 px); the encoder sees the other 63
warmup_mask_ratio = 0.383  # random masking of 75 patches, no throwing, until the first refresh
refresh_start_epoch = 30  # warm-up epochs: first importance refresh before epoch 30 (0-based)
refresh_interval = 30  # epochs between refreshes (about 10 % of the schedule)
refresh_batch_size = 256  # per GPU, for the whole-image scoring pass
mask_generator = dict(  # 'FAMTMaskGenerator', 'AMTMaskGenerator' or 'RandomMaskGenerator'
    type='FAMTMaskGenerator',
    mask_ratio=mask_ratio,
    throw_ratio=throw_ratio,
    warmup_mask_ratio=warmup_mask_ratio)
img_size = 224
patch_size = 16
# -------------------------------------------------------------------------------------------------

data_preprocessor = dict(
    _delete_=True, type='FAMTTwoNormDataPreprocessor', mask_generator=mask_generator,
    patch_size=patch_size, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
    second_mean=[-31.875, -31.875, -31.875], second_std=[318.75, 318.75, 318.75], to_rgb=True)
model = dict(
    type='FAMTCAE',
    backbone=dict(type='FAMTCAEPretrainViT'),
    # CAENeck holds a fixed number of mask tokens: the count of both mask ratios (75 of 196)
    neck=dict(mask_tokens_num=75))

# CAE's flip and two-picture crop, recording the crop box; no BEiTMaskGenerator: the preprocessor
# masks
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    # DALL-E reads a 112-px picture: 8 px per token, the 14 x 14 patch grid of 224 px
    dict(type='RandomResizedCropAndInterpolationWithTwoPicAndBox', size=img_size,
         second_size=112, interpolation='bicubic', second_interpolation='lanczos',
         scale=(0.08, 1.0)),
    dict(type='PackFAMTInputs'),
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    # restated: the dict inherited across packages carries `_scope_`, which mmengine's Runner would
    # pass on to default_collate as an argument
    collate_fn=dict(_delete_=True, type='default_collate'))

# the whole image at the training size: no crop, no flip, the backbone's picture only
score_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), interpolation='bicubic'),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=refresh_batch_size),
]

# torch's fused AdamW (one kernel over all parameters) where torch has one for the parameters' device,
# and an optimizer step that compile=True leaves eager (famt_mm/engine/optim_constructor.py)
optim_wrapper = dict(constructor='FAMTOptimWrapperConstructor', optimizer=dict(fused=True))
