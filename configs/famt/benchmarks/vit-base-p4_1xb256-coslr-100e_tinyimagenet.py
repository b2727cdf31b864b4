# Fine-tuning on Tiny ImageNet of a checkpoint from ../pretrain/*_tinyimagenet.py: as
# vit-base-p2_1xb256-coslr-100e_cifar10.py at the pretraining's 64 px / 4-px patches, on the 100,000
# training and 10,000 validation JPEGs.
_base_ = './vit-base-p2_1xb256-coslr-100e_cifar10.py'

data_preprocessor = dict(num_classes=200, to_rgb=True)  # LoadImageFromFile gives BGR
model = dict(backbone=dict(img_size=64, patch_size=4), head=dict(num_classes=200))
train_dataloader = dict(
    num_workers=8,  # JPEG decoding
    dataset=dict(type='LocalTinyImageNet', data_root='data/tiny-imagenet-200', pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=64, backend='pillow', interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        # MAE's fill values in the images' channel order (BGR from LoadImageFromFile)
        dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
             magnitude_level=9, magnitude_std=0.5,
             hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
        dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
             max_area_ratio=1 / 3, fill_color=[103.53, 116.28, 123.675],
             fill_std=[57.375, 57.12, 58.395]),
        dict(type='PackInputs'),
    ]))
val_dataloader = dict(
    num_workers=8,
    dataset=dict(type='LocalTinyImageNet', data_root='data/tiny-imagenet-200', split='val',
                 pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
test_dataloader = val_dataloader
