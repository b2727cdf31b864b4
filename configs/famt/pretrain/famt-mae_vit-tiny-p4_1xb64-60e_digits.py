# The embedded demo: FAMT-MAE with a tiny ViT on scikit-learn's 1,797 handwritten digits (shipped inside
# scikit-learn, nothing downloaded): 20 warm-up epochs of random masking, refreshes before epochs 21 and 41,
# guided masking (0.45) and throwing (0.40) in between, then a linear probe of the frozen features on a
# held-out split. About 5 minutes on 2 CPU cores.
_base_ = ['mmpretrain::_base_/default_runtime.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.45, throw_ratio=0.40),  # 28 / 26 / 10 of 64
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5])
model = dict(
    type='FAMTMAE',
    backbone=dict(
        type='FAMTMAEViT',
        arch=dict(embed_dims=96, num_layers=6, num_heads=4, feedforward_channels=384),
        img_size=32,  # digits are 8x8; upscaled so that 4-px patches give an 8x8 grid of 64 patches
        patch_size=4),
    neck=dict(
        type='FAMTMAEPretrainDecoder',
        in_chans=3,
        embed_dim=96,
        decoder_embed_dim=64,
        decoder_depth=2,
        decoder_num_heads=4,
        mlp_ratio=4.),
    head=dict(type='MAEPretrainHead', norm_pix=True, loss=dict(type='PixelReconstructionLoss', criterion='L2')),
    init_cfg=[
        dict(type='Xavier', layer='Linear', distribution='uniform'),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)
    ])
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
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={
        'ln': dict(decay_mult=0.0),
        'bias': dict(decay_mult=0.0),
        'pos_embed': dict(decay_mult=0.),
        'mask_token': dict(decay_mult=0.),
        'cls_token': dict(decay_mult=0.)
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=55, by_epoch=True, begin=5, end=60, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
randomness = dict(seed=0, diff_rank_seed=True)
