# FAMT-MFF: MAE with multi-level feature fusion (mmpretrain's MFF), ViT-B/16, ImageNet-1K, 300 epochs,
# with FAMT-MAE's masking (0.45 / 0.40). The fused blocks (0, 2, 4, 6, 8, 11) are inherited.
_base_ = ['mmpretrain::mff/mff_vit-base-p16_8xb512-amp-coslr-300e_in1k.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.45, throw_ratio=0.40))
model = dict(type='FAMTMFF', backbone=dict(type='FAMTMFFViT'), neck=dict(type='FAMTMAEPretrainDecoder'))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='FAMTRandomResizedCropWithBox', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]))
