# FAMT-MAE: ViT-B on CIFAR-10 at its native 32 px with 2-px patches (16 x 16 = 256 patches, close to
# ImageNet's 14 x 14), 400 epochs, batch 256. MAE's recipe (optimiser, schedule, decoder, loss) is
# that of famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py, inherited; only data, resolution and
# batch change here. The AMT and plain-MAE baselines (amt-mae_... and mae_vit-base-p2_1xb256-amp-coslr-
# 400e_cifar10.py) inherit this file and swap the mask generator; the CIFAR-100, STL-10 and Tiny
# ImageNet configs inherit it too.
_base_ = './famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'LocalCIFAR10'  # famt_mm's reader of the python pickle batches (no download)
data_root = 'data/cifar10'  # holds cifar-10-batches-py/
img_size = 32  # native resolution: no upsampling
patch_size = 2  # 16 x 16 patches
mask_ratio = 0.45  # 115 of 256 patches masked
throw_ratio = 0.40  # 102 thrown, 39 visible (plain MAE at 0.75: 64 visible)
warmup_mask_ratio = 0.75  # plain MAE masking until the first refresh
max_epochs = 400
warmup_epochs = 40  # linear lr warm-up, as MAE
refresh_start_epoch = 40  # first importance refresh before epoch 40 (0-based)
refresh_interval = 40  # about 10 % of the schedule
batch_size = 256  # per GPU; lr assumes 256 in total (pass --auto-scale-lr for other totals)
lr = 1.5e-4  # MAE's base lr per 256 images
num_workers = 4
refresh_batch_size = 1024  # whole-image scoring, no gradients
mask_generator = dict(type='FAMTMaskGenerator', mask_ratio=mask_ratio, throw_ratio=throw_ratio,
                      warmup_mask_ratio=warmup_mask_ratio)
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
# images are RGB arrays in memory: no LoadImageFromFile, no BGR->RGB swap
data_preprocessor = dict(type='FAMTDataPreprocessor', mask_generator=mask_generator,
                         patch_size=patch_size, to_rgb=False)
model = dict(
    backbone=dict(img_size=img_size, patch_size=patch_size),
    neck=dict(num_patches=(img_size // patch_size)**2, patch_size=patch_size),
    head=dict(patch_size=patch_size))

train_pipeline = [
    dict(type='RandomResizedCropWithBox', scale=img_size, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))

# the whole image at the training size: no crop, no flip
score_pipeline = [
    dict(type='Resize', scale=(img_size, img_size), backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=refresh_batch_size),
]

optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)
