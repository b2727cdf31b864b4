# FAMT-MILAN: ViT-B/16, ImageNet-1K, 400 epochs, 16 GPUs x 256: mmpretrain's MILAN recipe (CLIP targets,
# prompting decoder) with FAMT-MAE's masking (0.45 / 0.40) in place of MILAN's attention-driven
# sampling: the CLIP teacher gives the targets only.
_base_ = ['mmpretrain::milan/milan_vit-base-p16_16xb256-amp-coslr-400e_in1k.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.45, throw_ratio=0.40))
model = dict(
    type='FAMTMILAN',
    backbone=dict(type='FAMTMILANViT'),
    # mmpretrain 1.2's ViT-B config leaves the decoder's embed_dim at ViT-L's 1024 and fails on ViT-B
    neck=dict(type='FAMTMILANPretrainDecoder', embed_dim=768))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='FAMTRandomResizedCropWithBox', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]))
