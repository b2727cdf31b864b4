# The embedded demo for CNNs: FAMT-SparK with a tiny sparse ConvNeXt on scikit-learn's handwritten
# digits (shipped inside scikit-learn, nothing downloaded), at 32 px as the ViT demo. The ConvNeXt has
# 3 stages behind a 2-px stem (strides 2, 4, 8), so SparK's masking unit, the final stride, is 8 px:
# a 4 x 4 grid of 16 units. Guided masking (frequency-only weights of the last stage's 4 x 4 map, no
# attention in a CNN), no throwing (convolutions need the whole grid), then a linear probe of the
# frozen features (the mean of the last stage's map) on a held-out split.
_base_ = 'mmpretrain::_base_/default_runtime.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

# ---- knobs ---------------------------------------------------------------------------------------
img_size = 32  # digits are 8x8, upscaled
patch_size = 8  # SparK's masking unit: the final stride (stem 2 x two downsamplings of 2)
mask_ratio = 0.6  # SparK's ratio: 9 of the 16 units masked (the plan's floor), 7 visible
max_epochs = 60
refresh_start_epoch = 20  # warm-up epochs (random masking at the same ratio)
refresh_interval = 20  # refreshes before epochs 20 and 40
batch_size = 64
lr = 1e-3
mask_generator = dict(type='FAMTMaskGenerator', mask_ratio=mask_ratio, throw_ratio=0.0,
                      throw_mode='off', warmup_mask_ratio=mask_ratio, weight_source='frequency')
# -------------------------------------------------------------------------------------------------

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    mask_generator=mask_generator,
    patch_size=patch_size,
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5])
model = dict(
    type='FAMTSparK',
    input_size=img_size,
    downsample_raito=patch_size,
    mask_ratio=mask_ratio,
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
        upsample_ratio=patch_size,  # one decoder level per backbone stage
        mid_channels=0,
        norm_cfg=dict(type='BN'),  # one process: no SyncBN
        last_act=False),
    head=dict(
        type='SparKPretrainHead',
        patch_size=patch_size,
        loss=dict(type='PixelReconstructionLoss', criterion='L2')))

train_pipeline = [
    dict(type='Resize', scale=(img_size, img_size), interpolation='bicubic'),
    dict(type='RandomResizedCropWithBox', scale=img_size, crop_ratio_range=(0.4, 1.0),
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]
whole_image_pipeline = [  # scoring and probing: the whole image, no augmentation
    dict(type='Resize', scale=(img_size, img_size), interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=0,  # 8x8 images: loading in the main process beats worker IPC on 2 cores
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='DigitsDataset', split='train', pipeline=train_pipeline))


def probe_loader(split):
    return dict(
        batch_size=256,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='DigitsDataset', split=split, pipeline=whole_image_pipeline))


custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=whole_image_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=256),
    dict(type='LinearProbeHook', train_dataloader=probe_loader('train'),
         test_dataloader=probe_loader('test')),
]

# SparK's optimiser (LAMB, betas 0.9 / 0.95, no decay of biases, norms and mask tokens) at the demo's
# scale: a small batch on CPU
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Lamb', lr=lr, betas=(0.9, 0.95), weight_decay=0.04),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(bias_decay_mult=0.0, flat_decay_mult=0.0,
                       custom_keys={'mask_token': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 5, by_epoch=True, begin=5, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
randomness = dict(seed=0, diff_rank_seed=True)
