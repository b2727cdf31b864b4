# The cluttered-digits benchmark (docs/ablation.md) on a CNN: the CNN demo's FAMT-SparK (a tiny sparse
# ConvNeXt, FAMT's frequency-only masking at SparK's ratio 0.6, nothing thrown) on the benchmark's data,
# schedule and evaluation: 48 px in 8-px units (36, 21 masked), 4 renders of 4,000 training digits,
# 20 epochs, refreshes from epoch 6 every 5, object capture after each, the few-label fine-tune (on the
# mean-pooled last feature map), probe and k-NN at the end.
_base_ = './famt-spark_sparse-convnext-mini-p8_1xb64-60e_digits.py'

model = dict(input_size=48)
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
optim_wrapper = dict(optimizer=dict(lr=2e-3))  # Lamb: batch 256 against the demo's 64
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=18, by_epoch=True, begin=2, end=20, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=20)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=20, max_keep_ckpts=1))
