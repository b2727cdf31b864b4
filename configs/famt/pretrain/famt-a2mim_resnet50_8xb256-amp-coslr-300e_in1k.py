# FAMT-A²MIM: A²MIM on ResNet-50, ImageNet-1K, 224 px, 300 epochs, 8 GPUs x 256. The random block mask
# of the baseline config becomes FAMT's guided masking of the same 32-px units, scored from the CNN
# itself: the frequency factor of the last stage's 7 x 7 map (a CNN has no attention), no throwing
# (convolutions need the whole grid). Model and recipe are the baseline's.
_base_ = './a2mim_resnet50_8xb256-amp-coslr-300e_in1k.py'

# ---- FAMT knobs ---------------------------------------------------------------------------------
mask_ratio = 0.6  # share of the 49 units of 32 px masked, A²MIM's own ratio
warmup_mask_ratio = 0.6  # random masking until the first refresh
refresh_start_epoch = 30  # warm-up epochs: first importance refresh before epoch 30 (0-based)
refresh_interval = 30  # epochs between refreshes (10 % of the schedule)
refresh_batch_size = 256  # per GPU, for the whole-image scoring pass
mask_generator = dict(  # a CNN has no attention: frequency-only FAMT, or 'RandomMaskGenerator'
    type='FAMTMaskGenerator',
    mask_ratio=mask_ratio,
    throw_ratio=0.0,
    throw_mode='off',
    warmup_mask_ratio=warmup_mask_ratio,
    # A²MIM's block mask rounds its count up: ceil(49 * 0.6) = 30 masked units
    count_rounding='ceil_each',
    weight_source='frequency')
img_size = 224
patch_size = 32  # one plan patch per position of the last feature map: the output stride
# -------------------------------------------------------------------------------------------------

data_preprocessor = dict(
    type='FAMTDataPreprocessor', mask_generator=mask_generator, patch_size=patch_size)
model = dict(type='FAMTA2MIM')

# the crop box travels with each sample so the stored whole-image map can follow the view
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCropWithBox', scale=img_size, crop_ratio_range=(0.8, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# the whole image at the training size: no crop, no flip
score_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=refresh_batch_size),
]
