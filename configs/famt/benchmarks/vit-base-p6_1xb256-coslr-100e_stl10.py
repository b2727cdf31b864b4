# Fine-tuning on STL-10 of a checkpoint from ../pretrain/*_stl10.py: as vit-base-p2_1xb256-coslr-100e_cifar10.py at
# the pretraining's 96 px / 6-px patches, on the 5,000 labelled training and 8,000 test images.
_base_ = './vit-base-p2_1xb256-coslr-100e_cifar10.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'STL10'
data_root = 'data/stl10'  # holds stl10_binary/
img_size = 96
patch_size = 6  # as the pretraining
# --------------------------------------------------------------------------------------------------

model = dict(backbone=dict(img_size=img_size, patch_size=patch_size))
train_pipeline = [
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val={{_base_.pad_val}}, interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color={{_base_.fill_color}}, fill_std={{_base_.fill_std}}),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
