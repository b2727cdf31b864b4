# Linear probe on CIFAR-10 of a checkpoint from ../pretrain/*_cifar10.py: MAE's recipe as
# vit-base-p16_8xb2048-linear-coslr-90e_in1k.py (frozen ViT-B, BatchNorm without affine, LARS lr 0.1 per 256, 90 epochs) at
# the pretraining's 32 px / 2-px patches, batch 1024, on the 50,000 training and 10,000 test images.
_base_ = './vit-base-p16_8xb2048-linear-coslr-90e_in1k.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'LocalCIFAR10'
data_root = 'data/cifar10'  # holds cifar-10-batches-py/
test_split = 'test'
num_classes = 10
img_size = 32
patch_size = 2  # as the pretraining
batch_size = 1024  # per GPU; lr assumes 1024 in total (pass --auto-scale-lr for other totals)
lr = 0.1 * 1024 / 256  # MAE's linear-probe lr per 256 images (LARS)
num_workers = 4
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
# images are RGB arrays in memory: no LoadImageFromFile, no BGR->RGB swap
data_preprocessor = dict(num_classes=num_classes, to_rgb=False)
model = dict(backbone=dict(img_size=img_size, patch_size=patch_size),
             head=dict(num_classes=num_classes))
train_pipeline = [
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]  # the whole image at its native size
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, split=test_split,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=lr))
auto_scale_lr = dict(base_batch_size=1024)
