# FAMT-SimMIM: ViT-B/16, ImageNet-1K, 224 px, 200 epochs, 8 GPUs x 256, masking and throwing of 32-px units.
# SimMIM's runtime, dataset and AMP optimizer wrapper are inherited from mmpretrain's SimMIM config; the
# model becomes a plain ViT and the recipe that of SimMIM-AMT.
_base_ = 'mmpretrain::simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

# ---- FAMT knobs ---------------------------------------------------------------------------------
mask_ratio = 0.44  # share of the 7x7 units of 32 px replaced by [MASK] (22 units = 88 patches)
throw_ratio = 0.26  # share of units removed from the token sequence (13 units = 52 patches)
warmup_mask_ratio = 0.44  # random masking, no throwing, until the first refresh (official code)
refresh_start_epoch = 40  # warm-up epochs: first importance refresh before epoch 40 (0-based)
refresh_interval = 40  # epochs between refreshes
refresh_batch_size = 256  # per GPU, for the whole-image scoring pass
mask_generator = dict(  # 'FAMTMaskGenerator', 'AMTMaskGenerator' or 'RandomMaskGenerator'
    type='FAMTMaskGenerator',
    mask_ratio=mask_ratio,
    throw_ratio=throw_ratio,
    warmup_mask_ratio=warmup_mask_ratio,
    # the official SimMIM code rounds each count up: ceil(49 * 0.44) = 22 masked, ceil(49 * 0.26) = 13
    # thrown, 14 visible units (MAE's int() of the cumulative ratios would give 21 / 13 / 15)
    count_rounding='ceil_each')
img_size = 224
patch_size = 16
unit_size = 32  # SimMIM's masking unit in pixels
max_epochs = 200
warmup_epochs = 10
base_lr = 1e-4  # per 512 images (SimMIM-AMT); scaled to the 2048-image batch below
# -------------------------------------------------------------------------------------------------

data_preprocessor = dict(
    type='FAMTDataPreprocessor', mask_generator=mask_generator, patch_size=patch_size,
    unit_size=unit_size)
model = dict(
    _delete_=True,
    type='FAMTSimMIM',
    backbone=dict(type='FAMTSimMIMViT', arch='b', img_size=img_size, patch_size=patch_size,
                  drop_path_rate=0.1),
    neck=dict(type='FAMTSimMIMLinearDecoder', in_channels=768, encoder_stride=patch_size),
    head=dict(type='SimMIMHead', patch_size=patch_size,
              loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCropWithBox', scale=img_size, crop_ratio_range=(0.67, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    # restated: the dict inherited across packages carries `_scope_`, which mmengine's Runner would
    # pass on to default_collate as an argument
    collate_fn=dict(_delete_=True, type='default_collate'))
score_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=refresh_batch_size),
]

# FAMTOptimWrapperConstructor: torch's fused AdamW (one kernel over all parameters) where torch has one
# for the parameters' device, and an optimizer step that compile=True leaves eager
optim_wrapper = dict(
    constructor='FAMTOptimWrapperConstructor',
    optimizer=dict(lr=base_lr * 2048 / 512, fused=True),
    paramwise_cfg=dict(custom_keys={
        'ln': dict(decay_mult=0.0),
        'pos_embed': dict(decay_mult=0.0),
        'cls_token': dict(decay_mult=0.0),
        'mask_token': dict(decay_mult=0.0),
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-5 * 2048 / 512,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
