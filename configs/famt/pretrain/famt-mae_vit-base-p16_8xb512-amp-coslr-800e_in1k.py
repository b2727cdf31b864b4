# FAMT-MAE: ViT-B/16, ImageNet-1K, 800 epochs: the 400-epoch config with the schedule of
# mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py (mmengine cannot merge two bases that
# both define the model, so its two schedule entries are restated), 40 warm-up epochs of random masking
# and refreshes every 10 % (80 epochs), as the public 800-epoch runs.
_base_ = './famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=760, by_epoch=True, begin=40, end=800,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=800)
custom_hooks = [dict(type='FAMTRefreshHook', start_epoch=40, interval=0.1)]
