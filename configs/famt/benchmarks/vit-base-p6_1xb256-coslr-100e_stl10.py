# Fine-tuning on STL-10 of a checkpoint from ../pretrain/*_stl10.py: as
# vit-base-p2_1xb256-coslr-100e_cifar10.py at the pretraining's 96 px / 6-px patches, on the 5,000
# labelled training and 8,000 test images.
_base_ = './vit-base-p2_1xb256-coslr-100e_cifar10.py'

model = dict(backbone=dict(img_size=96, patch_size=6))
train_dataloader = dict(
    dataset=dict(type='LocalSTL10', data_root='data/stl10', pipeline=[  # data_root holds stl10_binary/
        dict(type='RandomResizedCrop', scale=96, backend='pillow', interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
             magnitude_level=9, magnitude_std=0.5,
             hparams=dict(pad_val=[124, 116, 104], interpolation='bicubic')),
        dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
             max_area_ratio=1 / 3, fill_color=[123.675, 116.28, 103.53],
             fill_std=[58.395, 57.12, 57.375]),
        dict(type='PackInputs'),
    ]))
val_dataloader = dict(dataset=dict(type='LocalSTL10', data_root='data/stl10'))
test_dataloader = val_dataloader
