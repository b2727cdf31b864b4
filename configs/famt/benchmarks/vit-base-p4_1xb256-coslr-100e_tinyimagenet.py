# Fine-tuning on Tiny ImageNet of a checkpoint from ../pretrain/*_tinyimagenet.py: as
# vit-base-p2_1xb256-coslr-100e_cifar10.py at the pretraining's 64 px / 4-px patches, on the 100,000 training and
# 10,000 validation JPEGs.
_base_ = './vit-base-p2_1xb256-coslr-100e_cifar10.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'TinyImageNet'
data_root = 'data/tiny-imagenet-200'
test_split = 'val'
num_classes = 200
img_size = 64
patch_size = 4  # as the pretraining
num_workers = 8  # JPEG decoding
# MAE's augmentation fill values in the images' channel order (BGR from LoadImageFromFile)
pad_val = [104, 116, 124]
fill_color = [103.53, 116.28, 123.675]
fill_std = [57.375, 57.12, 58.395]
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
data_preprocessor = dict(num_classes=num_classes, to_rgb=True)
model = dict(backbone=dict(img_size=img_size, patch_size=patch_size),
             head=dict(num_classes=num_classes))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=pad_val, interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=fill_color, fill_std=fill_std),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    num_workers=num_workers,
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=num_workers,
    dataset=dict(type=dataset_type, data_root=data_root, split=test_split, pipeline=test_pipeline))
test_dataloader = val_dataloader
