# FAMT-A²MIM on ResNet-50, ImageNet-1K, 224 px, 300 epochs, 8 GPUs x 256: A²MIM's ResNet-50 recipe
# (Li et al., ICML 2023; public code OpenMixup) on mmpretrain's classes, with its 32-px masking units
# (mask 0.6) drawn from FAMT's frequency factor of the last stage's map (a CNN has no attention; nothing is
# thrown). mmpretrain has no A²MIM config to inherit, so the recipe is written out here.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs256_simmim_192.py',
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/famt.py',
]

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0, throw_mode='off',
                        warmup_mask_ratio=0.6, count_rounding='ceil_each', weight_source='frequency'))
model = dict(
    type='FAMTA2MIM',
    backbone=dict(
        type='FAMTA2MIMResNet',
        depth=50,
        out_indices=(3, ),
        mask_layer=3,  # the mask token joins the input of the last stage (stride 16)
        mask_init=1e-6,
        norm_cfg=dict(type='SyncBN')),
    neck=dict(type='FAMTA2MIMLinearDecoder', in_channels=2048, encoder_stride=32),
    head=dict(type='FAMTA2MIMHead', spatial_loss='l1', fft_weight=0.5, fft_unmask_weight=1e-3))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='FAMTRandomResizedCropWithBox', scale=224, crop_ratio_range=(0.8, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]))
optim_wrapper = dict(
    type='AmpOptimWrapper',
    # lr 3e-4 per 512 images (A²MIM's ResNet-50 recipe), for the 2048-image batch
    optimizer=dict(type='AdamW', lr=3e-4 * 2048 / 512, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={'mask_token': dict(decay_mult=0.0, lr_mult=0.1)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=290, eta_min=1e-5, by_epoch=True, begin=10, end=300,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=2048)
