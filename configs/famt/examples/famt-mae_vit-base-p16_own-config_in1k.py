# FAMT-MAE in your own config: inherit your MAE config and famt_mm's base, then write the generator.
# This example inherits mmpretrain's MAE ViT-B/16 ImageNet-1K recipe directly. Copied elsewhere, point the
# second base at famt_mm's file (famt_mm/.mim/configs/famt/_base_/famt.py in an installed famt_mm), or
# write its three settings (custom_imports, runner_type, custom_hooks) into your config instead.
_base_ = ['mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py', '../_base_/famt.py']

# masked / thrown / visible patches sampled from the stored maps; patch size, patch count and the
# scoring pipeline are derived from the model and the training pipeline
data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.45, throw_ratio=0.40))
model = dict(type='FAMTMAE', backbone=dict(type='FAMTMAEViT'), neck=dict(type='FAMTMAEPretrainDecoder'))
# the crop box travels with each sample, so the stored whole-image map can follow the view
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='FAMTRandomResizedCropWithBox', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]))
