# FAMT-BEiT v2: BEiT v2 (VQKD visual tokens, [MASK] tokens), ViT-B/16, ImageNet-1K, 224 px, 300
# epochs, 8 GPUs x 256. BEiT v2's recipe, VQKD tokenizer (published weights) and runtime are
# inherited from mmpretrain's BEiT v2 config; the pipeline's block-wise mask is replaced by FAMT's
# plan (guided masking per patch and throwing; the shared relative position bias is gathered at the
# kept positions, see docs/algorithms.md). No FAMT run of BEiT v2 has been published: the ratios
# below are this package's choice.
_base_ = 'mmpretrain::beitv2/beitv2_beit-base-p16_8xb256-amp-coslr-300e_in1k.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

# ---- FAMT knobs ---------------------------------------------------------------------------------
mask_ratio = 0.383  # share of the 196 patches replaced by [MASK] (75, BEiT v2's own count)
throw_ratio = 0.30  # share removed from the token sequence (58 at 224 px); 63 stay visible
warmup_mask_ratio = 0.383  # random masking of 75 patches, no throwing, until the first refresh
refresh_start_epoch = 30  # warm-up epochs: first importance refresh before epoch 30 (0-based)
refresh_interval = 30  # epochs between refreshes (about 10 % of the schedule)
refresh_batch_size = 256  # per GPU, for the whole-image scoring pass
mask_generator = dict(  # 'FAMTMaskGenerator', 'AMTMaskGenerator' or 'RandomMaskGenerator'
    type='FAMTMaskGenerator',
    mask_ratio=mask_ratio,
    throw_ratio=throw_ratio,
    warmup_mask_ratio=warmup_mask_ratio)
img_size = 224  # VQKD reads the second picture at the same size and patch size
patch_size = 16
# -------------------------------------------------------------------------------------------------

data_preprocessor = dict(
    _delete_=True, type='FAMTTwoNormDataPreprocessor', mask_generator=mask_generator,
    patch_size=patch_size, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
    second_mean=[127.5, 127.5, 127.5], second_std=[127.5, 127.5, 127.5], to_rgb=True)
model = dict(type='FAMTBEiT', backbone=dict(type='FAMTBEiTPretrainViT'))

# BEiT v2's jitter, flip and two-picture crop, recording the crop box; no BEiTMaskGenerator: the
# preprocessor masks
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomResizedCropAndInterpolationWithTwoPicAndBox', size=img_size,
         second_size=img_size, interpolation='bicubic', second_interpolation='bicubic',
         scale=(0.2, 1.0)),
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
