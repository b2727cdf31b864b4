# FAMT-MAE: ViT-B on Tiny ImageNet at its native 64 px with 4-px patches (16 x 16 = 256 patches),
# 100,000 training images read from their JPEG files; recipe and ratios as
# famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py.
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py'

data_preprocessor = dict(to_rgb=True)  # LoadImageFromFile gives BGR: swap to RGB as for ImageNet
model = dict(backbone=dict(img_size=64, patch_size=4))
train_dataloader = dict(
    num_workers=8,  # JPEG decoding
    dataset=dict(
        type='LocalTinyImageNet',  # famt_mm's reader of the official folder layout
        data_root='data/tiny-imagenet-200',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='FAMTRandomResizedCropWithBox', scale=64, crop_ratio_range=(0.2, 1.0),
                 backend='pillow', interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackFAMTInputs'),
        ]))
