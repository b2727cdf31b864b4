# FAMT-MAE: ViT-B/16, ImageNet-1K, 800 epochs, refresh every 80 epochs.
# Everything else as famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py; the schedule is that of
# mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py (mmengine cannot merge two bases
# that both define the model, so the two differing entries are restated here).
_base_ = './famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

# ---- knobs ---------------------------------------------------------------------------------------
max_epochs = 800
warmup_epochs = 40  # linear lr warm-up, as MAE
refresh_start_epoch = 40  # FAMT warm-up epochs before the first refresh
refresh_interval = 80  # about 10 % of the schedule
refresh_batch_size = 256  # per GPU, for the whole-image scoring pass
img_size = 224
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
# the whole image at the training size: no crop, no flip
score_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=refresh_batch_size),
]
