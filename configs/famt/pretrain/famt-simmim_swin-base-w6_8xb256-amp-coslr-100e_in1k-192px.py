# FAMT-SimMIM with Swin-B (window 6), ImageNet-1K, 192 px, 100 epochs: mmpretrain's SimMIM recipe with
# guided masking of its 32-px units (mask 0.6, SimMIM's ratio, drawn from the importance weights). Swin's
# windows need every position, so nothing is thrown (a throwing generator is refused when built).
_base_ = ['mmpretrain::simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    unit_size=32,
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0, throw_mode='off',
                        warmup_mask_ratio=0.6, count_rounding='ceil_each'))
model = dict(type='FAMTSimMIM', backbone=dict(type='FAMTSimMIMSwin'))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='FAMTRandomResizedCropWithBox', scale=192, crop_ratio_range=(0.67, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]))
