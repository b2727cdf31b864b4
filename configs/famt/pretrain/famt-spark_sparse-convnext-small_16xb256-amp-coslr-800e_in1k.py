# FAMT-SparK: SparK on a sparse ConvNeXt-S, ImageNet-1K, 800 epochs: mmpretrain's SparK recipe with its 32-px
# masking units (the final stride) drawn from importance weights. A CNN has no attention: the weights
# are FAMT's frequency factor of the last stage's map; convolutions need every unit, so nothing is thrown.
_base_ = ['mmpretrain::spark/spark_sparse-convnext-small_16xb256-amp-coslr-800e_in1k.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0, throw_mode='off',
                        warmup_mask_ratio=0.6, weight_source='frequency'))  # SparK's ratio: 29 of 49
model = dict(type='FAMTSparK')
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='FAMTRandomResizedCropWithBox', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]))
