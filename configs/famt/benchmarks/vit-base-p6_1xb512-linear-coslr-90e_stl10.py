# Linear probe on STL-10 of a checkpoint from ../pretrain/*_stl10.py: as vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py at
# the pretraining's 96 px / 6-px patches, on the 5,000 labelled training and 8,000 test images.
_base_ = './vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'STL10'
data_root = 'data/stl10'  # holds stl10_binary/
num_classes = 10
img_size = 96
patch_size = 6  # as the pretraining
batch_size = 512  # per GPU (5,000 training images); lr assumes 512 in total
lr = 0.1 * 512 / 256
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
model = dict(backbone=dict(img_size=img_size, patch_size=patch_size))
train_pipeline = [
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=batch_size,
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=batch_size, dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=lr))
auto_scale_lr = dict(base_batch_size=512)
