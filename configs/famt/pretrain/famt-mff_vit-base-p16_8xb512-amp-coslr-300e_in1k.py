# FAMT-MFF: MAE with multi-level feature fusion (MFF), ViT-B/16, ImageNet-1K, 224 px, 300 epochs,
# 8 GPUs x 512. MFF's recipe, fused blocks and runtime are inherited from mmpretrain's MFF config; the
# masking becomes FAMT's (guided masking and throwing from the preprocessor's plan).
_base_ = 'mmpretrain::mff/mff_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

# ---- FAMT knobs ---------------------------------------------------------------------------------
mask_ratio = 0.45  # share of the 196 patches reconstructed (88 at 224 px)
throw_ratio = 0.40  # share thrown away: never encoded, decoded or scored (78); 30 stay visible
warmup_mask_ratio = 0.75  # MFF's random masking (no throwing) until the first refresh
refresh_start_epoch = 30  # warm-up epochs: first importance refresh before epoch 30 (0-based)
refresh_interval = 30  # epochs between refreshes (about 10 % of the schedule)
refresh_batch_size = 256  # per GPU, for the whole-image scoring pass (no gradients: can be large)
mask_generator = dict(  # 'FAMTMaskGenerator', 'AMTMaskGenerator' or 'RandomMaskGenerator'
    type='FAMTMaskGenerator',
    mask_ratio=mask_ratio,
    throw_ratio=throw_ratio,
    warmup_mask_ratio=warmup_mask_ratio)
img_size = 224
patch_size = 16
# -------------------------------------------------------------------------------------------------

data_preprocessor = dict(
    type='FAMTDataPreprocessor', mask_generator=mask_generator, patch_size=patch_size)
model = dict(
    type='FAMTMFF',
    # out_indices (the fused blocks 0, 2, 4, 6, 8, 11) are inherited from MFF's config
    backbone=dict(type='FAMTMFFViT', img_size=img_size, patch_size=patch_size),
    neck=dict(type='FAMTMAEPretrainDecoder', num_patches=(img_size // patch_size)**2,
              patch_size=patch_size))

# MFF's pipeline (resize, padded random crop, flip through torchvision) records no crop box, which the
# stored whole-image map needs to follow the view; FAMT-MAE's box-recording crop takes its place
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

# torch's fused AdamW (one kernel over all parameters) where torch has one for the parameters' device,
# and an optimizer step that compile=True leaves eager (famt_mm/engine/optim_constructor.py)
optim_wrapper = dict(constructor='FAMTOptimWrapperConstructor', optimizer=dict(fused=True))
