# FAMT-CAE: the Context Autoencoder, ViT-B/16, ImageNet-1K, 300 epochs: mmpretrain's CAE recipe with
# guided masking (0.383: CAE's 75 patches) and throwing (0.30: 58 patches); the encoder sees 63.
_base_ = ['mmpretrain::cae/cae_beit-base-p16_8xb256-amp-coslr-300e_in1k.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTTwoNormDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.383, throw_ratio=0.30,
                        warmup_mask_ratio=0.383))
# CAENeck holds a fixed number of mask tokens: the masked count of mask_ratio (and warmup_mask_ratio)
model = dict(type='FAMTCAE', backbone=dict(type='FAMTCAEPretrainViT'), neck=dict(mask_tokens_num=75))
train_dataloader = dict(dataset=dict(pipeline=[  # no BEiTMaskGenerator: the preprocessor masks
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox', size=224, second_size=112,
         interpolation='bicubic', second_interpolation='lanczos', scale=(0.08, 1.0)),
    dict(type='PackFAMTInputs'),
]))
# BEiT's two-picture crop: the scoring pipeline is stated (the whole image at the training size)
custom_hooks = [dict(type='FAMTRefreshHook', start_epoch=0.1, interval=0.1, pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224), interpolation='bicubic'),
    dict(type='PackInputs'),
])]
