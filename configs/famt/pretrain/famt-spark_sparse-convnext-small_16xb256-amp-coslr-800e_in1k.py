# FAMT-SparK: SparK on a sparse ConvNeXt-S, ImageNet-1K, 224 px, 800 epochs, 16 GPUs x 256. SparK's
# recipe (LAMB, light decoder, sparse LayerNorms) is inherited from mmpretrain's SparK ConvNeXt config;
# its random choice of active 32-px units (the final stride: a 4-px stem, three downsamplings of 2)
# becomes FAMT's guided masking, scored from the CNN itself: the frequency factor of the last stage's
# 7 x 7 map (no attention in a CNN), no throwing (convolutions need the whole grid).
_base_ = 'mmpretrain::spark/spark_sparse-convnext-small_16xb256-amp-coslr-800e_in1k.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

# ---- FAMT knobs ---------------------------------------------------------------------------------
mask_ratio = 0.6  # share of the 49 units of 32 px masked (29), SparK's own ratio
warmup_mask_ratio = 0.6  # SparK's random masking until the first refresh
refresh_start_epoch = 80  # warm-up epochs: first importance refresh before epoch 80 (0-based)
refresh_interval = 80  # epochs between refreshes (about 10 % of the schedule)
refresh_batch_size = 256  # per GPU, for the whole-image scoring pass
mask_generator = dict(  # a CNN has no attention: frequency-only FAMT, or 'RandomMaskGenerator'
    type='FAMTMaskGenerator',
    mask_ratio=mask_ratio,
    throw_ratio=0.0,
    throw_mode='off',
    warmup_mask_ratio=warmup_mask_ratio,
    weight_source='frequency')
img_size = 224
patch_size = 32  # SparK's masking unit: the final stride of the ConvNeXt
# -------------------------------------------------------------------------------------------------

data_preprocessor = dict(
    type='FAMTDataPreprocessor', mask_generator=mask_generator, patch_size=patch_size)
model = dict(
    type='FAMTSparK',
    input_size=img_size,
    downsample_raito=patch_size,
    mask_ratio=mask_ratio,
    neck=dict(upsample_ratio=patch_size),
    head=dict(patch_size=patch_size))

# the crop box travels with each sample so the stored whole-image map can follow the view
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCropWithBox', scale=img_size, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    # restated: the dict inherited across packages carries `_scope_`, which mmengine's Runner would
    # pass on to default_collate as an argument
    collate_fn=dict(_delete_=True, type='default_collate'))

# the whole image at the training size: no crop, no flip
score_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=refresh_batch_size),
]
