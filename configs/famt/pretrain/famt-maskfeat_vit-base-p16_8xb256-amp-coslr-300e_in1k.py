# FAMT-MaskFeat: ViT-B/16, ImageNet-1K, 300 epochs: mmpretrain's MaskFeat recipe (HOG targets) with
# guided masking (0.40: MaskFeat's 78 patches) and throwing (0.30: 59 patches leave the sequence).
# The HOG target always forms a 14 x 14 grid: keep 224 px with 16-px patches.
_base_ = ['mmpretrain::maskfeat/maskfeat_vit-base-p16_8xb256-amp-coslr-300e_in1k.py', '../_base_/famt.py']

data_preprocessor = dict(
    _delete_=True,  # the base's preprocessor is MaskFeat's own
    type='FAMTDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.40, throw_ratio=0.30,
                        warmup_mask_ratio=0.40))
model = dict(type='FAMTMaskFeat', backbone=dict(type='FAMTMaskFeatViT'))
train_dataloader = dict(dataset=dict(pipeline=[  # no BEiTMaskGenerator: the preprocessor masks
    dict(type='LoadImageFromFile'),
    dict(type='FAMTRandomResizedCropWithBox', scale=224, crop_ratio_range=(0.5, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFAMTInputs'),
]))
