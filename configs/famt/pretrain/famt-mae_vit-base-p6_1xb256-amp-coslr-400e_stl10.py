# FAMT-MAE: ViT-B on STL-10 at its native 96 px with 6-px patches (16 x 16 = 256 patches), pretrained
# on the 105,000 images of train + unlabeled; recipe and ratios as
# famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py.
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py'

model = dict(backbone=dict(img_size=96, patch_size=6))
train_dataloader = dict(
    dataset=dict(
        type='LocalSTL10',  # famt_mm's reader of the binary files
        data_root='data/stl10',  # holds stl10_binary/
        split='train+unlabeled',
        pipeline=[
            dict(type='FAMTRandomResizedCropWithBox', scale=96, crop_ratio_range=(0.2, 1.0),
                 backend='pillow', interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackFAMTInputs'),
        ]))
