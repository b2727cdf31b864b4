# Linear probe on Tiny ImageNet of a checkpoint from ../pretrain/*_tinyimagenet.py: as
# vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py at the pretraining's 64 px / 4-px patches, on the 100,000
# training and 10,000 validation JPEGs.
_base_ = './vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py'

data_preprocessor = dict(num_classes=200, to_rgb=True)  # LoadImageFromFile gives BGR
model = dict(backbone=dict(img_size=64, patch_size=4), head=dict(num_classes=200))
train_dataloader = dict(
    num_workers=8,  # JPEG decoding
    dataset=dict(type='LocalTinyImageNet', data_root='data/tiny-imagenet-200', pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=64, backend='pillow', interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]))
val_dataloader = dict(
    num_workers=8,
    dataset=dict(type='LocalTinyImageNet', data_root='data/tiny-imagenet-200', split='val',
                 pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
test_dataloader = val_dataloader
