# A²MIM on ResNet-50 ("Architecture-Agnostic Masked Image Modeling -- From ViT Back to CNN", Li et al.,
# ICML 2023, arXiv 2205.13943): ImageNet-1K, 224 px, 300 epochs, 8 GPUs x 256, random masking of 0.6 of
# the 32-px units by the pipeline (SimMIM's block mask generator). The baseline of the FAMT-A²MIM config.
# mmpretrain has no A²MIM config: its SimMIM dataset and its default runtime are inherited, the model
# and the recipe follow the public code's ResNet-50 run (OpenMixup, configs/selfsup/a2mim/imagenet/
# r50_l3_sz224_init_8xb256_cos_ep300.py): crop scale (0.8, 1), mask token after stage 3 with its gamma
# initialised to 1e-6, frequency loss weight 0.5, AdamW 1.2e-3 for 2048 images, 10 warm-up epochs.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs256_simmim_192.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

# ---- knobs --------------------------------------------------------------------------------------
mask_ratio = 0.6  # share of the 7 x 7 units of 32 px masked (ceil: 30 units)
img_size = 224
patch_size = 32  # A²MIM's masking unit, the ResNet's output stride (decoder upsampling)
max_epochs = 300
warmup_epochs = 10
base_lr = 3e-4  # per 512 images (A²MIM's ResNet-50 recipe); scaled to the 2048-image batch below
# -------------------------------------------------------------------------------------------------

model = dict(
    type='A2MIM',
    backbone=dict(
        type='A2MIMResNet',
        depth=50,
        out_indices=(3, ),
        mask_layer=3,  # the mask token joins the input of the last stage (stride 16)
        mask_init=1e-6,
        norm_cfg=dict(type='SyncBN')),
    neck=dict(type='A2MIMLinearDecoder', in_channels=2048, encoder_stride=patch_size),
    head=dict(type='A2MIMHead', spatial_loss='l1', fft_weight=0.5, fft_unmask_weight=1e-3))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.8, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    # the mask on the 32-px unit grid: A2MIMResNet resizes it to the input and to stage 3
    dict(type='SimMIMMaskGenerator', input_size=img_size, mask_patch_size=patch_size,
         model_patch_size=patch_size, mask_ratio=mask_ratio),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    # restated: the dict inherited across packages carries `_scope_`, which mmengine's Runner would
    # pass on to default_collate as an argument
    collate_fn=dict(_delete_=True, type='default_collate'))

optim_wrapper = dict(
    type='AmpOptimWrapper',
    # fused AdamW where torch has one for the parameters' device; an eager step under compile=True
    constructor='FAMTOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=base_lr * 2048 / 512, betas=(0.9, 0.999), weight_decay=0.05,
                   fused=True),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={'mask_token': dict(decay_mult=0.0, lr_mult=0.1)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-5, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
# `auto_scale_lr` scales the learning rate when the total batch is not 2048
auto_scale_lr = dict(base_batch_size=2048)
