# Your own small run: FAMT-MAE on a folder of images, on a laptop's CPU in minutes. It starts from the
# worked example (mmpretrain's MAE ViT-B/16 recipe plus FAMT) and shrinks what mmpretrain's base needs
# shrunk for that; docs/own_small_run.md says why each line is here. Train with
#   python tools/train.py configs/famt/examples/famt-mae_vit-mini-p8_1xb32-20e_folder.py \
#       --cfg-options train_dataloader.dataset.data_root=YOUR_FOLDER
_base_ = './famt-mae_vit-base-p16_own-config_in1k.py'

model = dict(
    # arch is a string ('b') in the base: a dict merged into it needs _delete_
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=96, num_layers=4, num_heads=4, feedforward_channels=384),
        img_size=64,
        patch_size=8),
    neck=dict(embed_dim=96, decoder_embed_dim=64, decoder_depth=2, decoder_num_heads=4))
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=False,  # mmengine refuses persistent workers with num_workers=0
    # every image under a folder, in subfolders or not: mmpretrain's CustomDataset without labels
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='data/my_images',
        with_label=False,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='FAMTRandomResizedCropWithBox', scale=64, crop_ratio_range=(0.2, 1.0), backend='pillow',
                 interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackFAMTInputs'),
        ]))
optim_wrapper = dict(
    _delete_=True,  # AmpOptimWrapper and its loss scale need a GPU
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={
        'ln': dict(decay_mult=0.0),
        'bias': dict(decay_mult=0.0),
        'pos_embed': dict(decay_mult=0.),
        'mask_token': dict(decay_mult=0.),
        'cls_token': dict(decay_mult=0.)
    }))
# the base's scheduler is written for 400 epochs (a list: restated whole)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=18, by_epoch=True, begin=2, end=20, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=20)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=5))
auto_scale_lr = dict(base_batch_size=32)
# the base sets resume = True, which makes load_from resume (optimizer, epoch, cache); a fresh run
load_from = None
resume = False
