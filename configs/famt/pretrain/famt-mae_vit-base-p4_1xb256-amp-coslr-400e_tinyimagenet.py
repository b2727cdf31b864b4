# FAMT-MAE: ViT-B on Tiny ImageNet at its native 64 px with 4-px patches (16 x 16 = 256 patches),
# 100,000 training images read from their JPEG files; recipe and ratios as famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py.
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'TinyImageNet'  # famt_mm's reader of the official folder layout
data_root = 'data/tiny-imagenet-200'
img_size = 64
patch_size = 4  # 16 x 16 patches
num_workers = 8  # JPEG decoding
refresh_start_epoch = 40  # as the CIFAR-10 config (custom_hooks is restated below)
refresh_interval = 40
refresh_batch_size = 1024
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
# LoadImageFromFile gives BGR: swap to RGB as for ImageNet
data_preprocessor = dict(patch_size=patch_size, to_rgb=True)
model = dict(
    backbone=dict(img_size=img_size, patch_size=patch_size),
    neck=dict(num_patches=(img_size // patch_size)**2, patch_size=patch_size),
    head=dict(patch_size=patch_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCropWithBox', scale=img_size, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]
train_dataloader = dict(
    num_workers=num_workers,
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
score_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=refresh_batch_size),
]
