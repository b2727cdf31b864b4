# FAMT-MAE in your own config: start from any mmpretrain MAE config and change what is marked below.
# This one inherits mmpretrain's MAE ViT-B/16 ImageNet-1K recipe directly (not famt_mm's configs):
# copy it next to your configs, point _base_ at your MAE config and set img_size / patch_size to its.
_base_ = 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

# 1. register famt_mm's modules (models, preprocessor, transforms, hook) into mmpretrain's registries
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)
default_scope = 'mmpretrain'

# 2. the input geometry of the base config: every size below is derived from these two
img_size = 224
patch_size = 16
num_patches = (img_size // patch_size)**2  # 196: the decoder's position embeddings

# 3. FAMT's masking: the preprocessor samples masked / thrown / visible patches from the stored maps
#    (mean / std / to_rgb are inherited from the base's SelfSupDataPreprocessor)
data_preprocessor = dict(
    type='FAMTDataPreprocessor',
    patch_size=patch_size,
    mask_generator=dict(
        type='FAMTMaskGenerator',  # or 'AMTMaskGenerator', 'RandomMaskGenerator'
        mask_ratio=0.45,  # reconstructed: 88 of 196 patches
        throw_ratio=0.40,  # never encoded, decoded or scored: 78; 30 stay visible
        warmup_mask_ratio=0.75))  # plain MAE masking until the first refresh

# 4. the FAMT model types in place of MAE / MAEViT / MAEPretrainDecoder (their other settings are
#    inherited; MAEPretrainHead stays)
model = dict(
    type='FAMTMAE',
    backbone=dict(type='FAMTMAEViT', img_size=img_size, patch_size=patch_size),
    neck=dict(type='FAMTMAEPretrainDecoder', num_patches=num_patches, patch_size=patch_size),
    head=dict(patch_size=patch_size))

# 5. the crop box travels with each sample so that the stored whole-image map follows the view
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCropWithBox', scale=img_size, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),  # keeps the crop box and the flip with the sample
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    # restated: a config inherited across packages ('mmpretrain::...') hands this dict to mmengine with
    # a `_scope_` key, which the Runner passes on to default_collate as an argument (TypeError:
    # default_collate() got an unexpected keyword argument '_scope_'); _delete_ drops the inherited one
    collate_fn=dict(_delete_=True, type='default_collate'))

# 6. the importance refresh: every training image scored whole (no crop, no flip) at the training size
score_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline,
         start_epoch=40,  # warm-up epochs of plain MAE masking before the first refresh
         interval=40,  # epochs between refreshes (about 10 % of the schedule)
         batch_size=256),  # per GPU, no gradients: can be larger than the training batch
]
