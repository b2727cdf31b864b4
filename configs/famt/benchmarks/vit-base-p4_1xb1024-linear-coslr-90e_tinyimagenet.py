# Linear probe on Tiny ImageNet of a checkpoint from ../pretrain/*_tinyimagenet.py: as
# vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py at the pretraining's 64 px / 4-px patches, on the 100,000 training and
# 10,000 validation JPEGs.
_base_ = './vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'TinyImageNet'
data_root = 'data/tiny-imagenet-200'
test_split = 'val'
num_classes = 200
img_size = 64
patch_size = 4  # as the pretraining
num_workers = 8  # JPEG decoding
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
data_preprocessor = dict(num_classes=num_classes, to_rgb=True)  # LoadImageFromFile gives BGR
model = dict(backbone=dict(img_size=img_size, patch_size=patch_size),
             head=dict(num_classes=num_classes))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
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
