# Fine-tuning on STL-10 of a checkpoint from ../pretrain/*_stl10.py: as vit-base-p2_1xb256-coslr-100e_cifar10.py at
# the pretraining's 96 px / 6-px patches, on the 5,000 labelled training and 8,000 test images.
_base_ = './vit-base-p2_1xb256-coslr-100e_cifar10.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'STL10'
data_root = 'data/stl10'  # holds stl10_binary/
img_size = 96
patch_size = 6  # as the pretraining
# MAE's augmentation fill values in the images' channel order (RGB arrays here)
pad_val = [124, 116, 104]
fill_color = [123.675, 116.28, 103.53]
fill_std = [58.395, 57.12, 57.375]
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
model = dict(backbone=dict(img_size=img_size, patch_size=patch_size))
train_pipeline = [
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=pad_val, interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=fill_color, fill_std=fill_std),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
