# Fine-tuning on CIFAR-10 of a checkpoint from ../pretrain/*_cifar10.py: MAE's recipe as
# vit-base-p16_8xb128-coslr-100e_in1k.py (100 epochs, layer decay 0.75, RandAugment, mixup, cutmix, random erasing,
# label smoothing) at the pretraining's 32 px / 2-px patches, batch 256.
_base_ = './vit-base-p16_8xb128-coslr-100e_in1k.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'LocalCIFAR10'
data_root = 'data/cifar10'  # holds cifar-10-batches-py/
test_split = 'test'
num_classes = 10
img_size = 32
patch_size = 2  # as the pretraining
batch_size = 256  # per GPU; lr assumes 256 in total (pass --auto-scale-lr for other totals)
lr = 5e-4  # MAE's fine-tuning lr per 256 images
num_workers = 4
# MAE's augmentation fill values in the images' channel order (RGB arrays here)
pad_val = [124, 116, 104]
fill_color = [123.675, 116.28, 103.53]
fill_std = [58.395, 57.12, 57.375]
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
data_preprocessor = dict(num_classes=num_classes, to_rgb=False)
model = dict(backbone=dict(img_size=img_size, patch_size=patch_size),
             head=dict(num_classes=num_classes))
# mmpretrain's MAE fine-tuning pipeline, at img_size and without LoadImageFromFile
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
auto_scale_lr = dict(base_batch_size=256)
