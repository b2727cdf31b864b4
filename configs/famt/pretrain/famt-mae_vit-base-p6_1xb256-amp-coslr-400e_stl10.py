# FAMT-MAE: ViT-B on STL-10 at its native 96 px with 6-px patches (16 x 16 = 256 patches),
# pretrained on the 105,000 images of train + unlabeled; recipe and ratios as
# famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py.
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'STL10'  # famt_mm's reader of the binary files
data_root = 'data/stl10'  # holds stl10_binary/
split = 'train+unlabeled'
img_size = 96
patch_size = 6  # 16 x 16 patches
refresh_start_epoch = 40  # as the CIFAR-10 config (custom_hooks is restated below)
refresh_interval = 40
refresh_batch_size = 1024
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
data_preprocessor = dict(patch_size=patch_size)
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
    dataset=dict(type=dataset_type, data_root=data_root, split=split, pipeline=train_pipeline))
score_pipeline = [
    dict(type='Resize', scale=(img_size, img_size), backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=refresh_batch_size),
]
