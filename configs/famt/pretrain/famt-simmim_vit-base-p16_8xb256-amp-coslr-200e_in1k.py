# FAMT-SimMIM: ViT-B/16, ImageNet-1K, 224 px, 200 epochs, 8 GPUs x 256, masking and throwing of 32-px
# units. SimMIM's runtime, dataset and AMP optimizer wrapper are inherited from mmpretrain's SimMIM
# config; the model becomes a plain ViT and the recipe that of SimMIM-AMT (lr 1e-4 per 512, 10 warm-up
# epochs, 0.44 / 0.26, refreshes after 40 epochs and every 40 after).
_base_ = ['mmpretrain::simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    unit_size=32,  # SimMIM's masking unit: 7 x 7 units of 2 x 2 patches
    mask_generator=dict(
        type='FAMTMaskGenerator',
        mask_ratio=0.44,  # 22 of the 49 units replaced by [MASK]
        throw_ratio=0.26,  # 13 units removed from the token sequence; 14 stay visible
        warmup_mask_ratio=0.44,  # random masking, no throwing, until the first refresh (public code)
        # the public SimMIM code rounds each count up (MAE's int() of the cumulative ratios gives 21/13/15)
        count_rounding='ceil_each'))
model = dict(
    _delete_=True,
    type='FAMTSimMIM',
    backbone=dict(type='FAMTSimMIMViT', arch='b', img_size=224, patch_size=16, drop_path_rate=0.1),
    neck=dict(type='FAMTSimMIMLinearDecoder', in_channels=768, encoder_stride=16),
    head=dict(type='SimMIMHead', patch_size=16,
              loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='FAMTRandomResizedCropWithBox', scale=224, crop_ratio_range=(0.67, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]))
custom_hooks = [dict(type='FAMTRefreshHook', start_epoch=40, interval=40)]
optim_wrapper = dict(
    optimizer=dict(lr=1e-4 * 2048 / 512),  # per 512 images (SimMIM-AMT), for the 2048-image batch
    paramwise_cfg=dict(custom_keys={
        'ln': dict(decay_mult=0.0),
        'pos_embed': dict(decay_mult=0.0),
        'cls_token': dict(decay_mult=0.0),
        'mask_token': dict(decay_mult=0.0),
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=190, eta_min=1e-5 * 2048 / 512, by_epoch=True, begin=10,
         end=200, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=200)
