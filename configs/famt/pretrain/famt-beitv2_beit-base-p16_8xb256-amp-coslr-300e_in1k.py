# FAMT-BEiT v2: BEiT-B/16, ImageNet-1K, 300 epochs: mmpretrain's BEiT v2 recipe (VQKD targets) with
# guided masking (0.383: BEiT's 75 patches) and throwing (0.30: 58 patches leave the sequence).
_base_ = ['mmpretrain::beitv2/beitv2_beit-base-p16_8xb256-amp-coslr-300e_in1k.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTTwoNormDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.383, throw_ratio=0.30,
                        warmup_mask_ratio=0.383))
model = dict(type='FAMTBEiT', backbone=dict(type='FAMTBEiTPretrainViT'))
train_dataloader = dict(dataset=dict(pipeline=[  # no BEiTMaskGenerator: the preprocessor masks
    dict(type='LoadImageFromFile'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox', size=224, second_size=224,
         interpolation='bicubic', second_interpolation='bicubic', scale=(0.2, 1.0)),
    dict(type='PackFAMTInputs'),
]))
# BEiT's two-picture crop: the scoring pipeline is stated (the whole image at the training size)
custom_hooks = [dict(type='FAMTRefreshHook', start_epoch=0.1, interval=0.1, pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224), interpolation='bicubic'),
    dict(type='PackInputs'),
])]
