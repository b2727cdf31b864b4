# The CNN demo: FAMT-SparK on a tiny sparse ConvNeXt (3 stages, 32-128 channels) with scikit-learn's
# digits at 32 px in 8-px masking units (the final stride: stem 2 x two downsamplings of 2; 16 units,
# 9 masked): FAMT's frequency-only masking (a CNN has no attention), 20 warm-up epochs, refreshes before
# epochs 21 and 41, linear probe after. The accuracy-for-time tool pairs it with random masking.
_base_ = ['mmpretrain::_base_/default_runtime.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.6, throw_ratio=0.0, throw_mode='off',
                        warmup_mask_ratio=0.6, weight_source='frequency'),
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5])
model = dict(
    type='FAMTSparK',
    input_size=32,
    downsample_raito=8,
    mask_ratio=0.6,
    enc_dec_norm_cfg=dict(type='SparseLN2d', eps=1e-6),
    enc_dec_norm_dim=128,  # the last stage's channels
    backbone=dict(
        type='SparseConvNeXt',
        arch=dict(depths=[1, 1, 2], channels=[32, 64, 128]),
        stem_patch_size=2,
        out_indices=(0, 1, 2),
        gap_before_output=False),
    neck=dict(
        type='SparKLightDecoder',
        feature_dim=64,
        upsample_ratio=8,  # one decoder level per backbone stage
        mid_channels=0,
        norm_cfg=dict(type='BN'),  # one process: no SyncBN
        last_act=False),
    head=dict(type='SparKPretrainHead', patch_size=8, loss=dict(type='PixelReconstructionLoss', criterion='L2')))
train_dataloader = dict(
    batch_size=64,
    num_workers=0,  # 8x8 images: loading in the main process beats worker IPC on 2 cores
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='SklearnDigits', split='train', pipeline=[
        dict(type='Resize', scale=(32, 32), interpolation='bicubic'),
        dict(type='FAMTRandomResizedCropWithBox', scale=32, crop_ratio_range=(0.4, 1.0), interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackFAMTInputs'),
    ]))


def probe_loader(split):
    """The linear probe's images: no pipeline given, so the hook reads the whole image as the refresh
    scores it (the training pipeline's loading, a resize to the views' size)."""
    return dict(
        batch_size=256,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='SklearnDigits', split=split))


custom_hooks = [
    dict(type='FAMTRefreshHook', start_epoch=20, interval=20, batch_size=256),
    dict(type='FAMTLinearProbeHook', train_dataloader=probe_loader('train'), test_dataloader=probe_loader('test')),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Lamb', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.04),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(bias_decay_mult=0.0, flat_decay_mult=0.0, custom_keys={'mask_token': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=55, by_epoch=True, begin=5, end=60, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
randomness = dict(seed=0, diff_rank_seed=True)
