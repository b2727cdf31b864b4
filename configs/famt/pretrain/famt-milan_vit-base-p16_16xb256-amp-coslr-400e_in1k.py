# FAMT-MILAN: MILAN (CLIP-feature targets, prompting decoder), ViT-B/16, ImageNet-1K, 224 px, 400 epochs,
# 16 GPUs x 256. MILAN's recipe, decoder, head, CLIP teacher and runtime are inherited from mmpretrain's
# MILAN config; the masking becomes FAMT's: the preprocessor's plan decides which patches stay visible
# (MILAN's own draw from the teacher's CLS attention is not used) and throws some.
_base_ = 'mmpretrain::milan/milan_vit-base-p16_16xb256-amp-coslr-400e_in1k.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

# ---- FAMT knobs ---------------------------------------------------------------------------------
# no FAMT run of MILAN has been published: FAMT-MAE's ratios (MILAN keeps 25 % visible, as MAE) are
# this package's choice
mask_ratio = 0.45  # share of the 196 patches predicted by the prompting decoder (88 at 224 px)
throw_ratio = 0.40  # share thrown away: never encoded, decoded or in the loss (78); 30 stay visible
warmup_mask_ratio = 0.75  # random masking of MILAN's ratio (no throwing) until the first refresh
refresh_start_epoch = 40  # warm-up epochs: first importance refresh before epoch 40 (0-based)
refresh_interval = 40  # epochs between refreshes (about 10 % of the schedule)
refresh_batch_size = 256  # per GPU, for the whole-image scoring pass (no gradients: can be large)
mask_generator = dict(  # 'FAMTMaskGenerator', 'AMTMaskGenerator' or 'RandomMaskGenerator'
    type='FAMTMaskGenerator',
    mask_ratio=mask_ratio,
    throw_ratio=throw_ratio,
    warmup_mask_ratio=warmup_mask_ratio)
img_size = 224
patch_size = 16
# -------------------------------------------------------------------------------------------------

data_preprocessor = dict(
    type='FAMTDataPreprocessor', mask_generator=mask_generator, patch_size=patch_size)
model = dict(
    type='FAMTMILAN',
    # the teacher (CLIPGenerator, ViT-B/16 CLIP weights) gives the targets only; importance maps are
    # scored from this encoder's last block
    backbone=dict(type='FAMTMILANViT', img_size=img_size, patch_size=patch_size),
    # embed_dim restated: mmpretrain 1.2's MILAN config leaves the decoder at its default 1024 (ViT-L's
    # width), which cannot take ViT-B's 768-dim tokens
    neck=dict(type='FAMTMILANPretrainDecoder', num_patches=(img_size // patch_size)**2,
              patch_size=patch_size, embed_dim=768))

# MILAN's (MAE's) pipeline with the crop box recorded, so the stored whole-image map follows the view
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCropWithBox', scale=img_size, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    # restated: the dict inherited across packages carries `_scope_`, which mmengine's Runner would
    # pass on to default_collate as an argument
    collate_fn=dict(_delete_=True, type='default_collate'))

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

# torch's fused AdamW (one kernel over all parameters) where torch has one for the parameters' device,
# and an optimizer step that compile=True leaves eager (famt_mm/engine/optim_constructor.py)
optim_wrapper = dict(constructor='FAMTOptimWrapperConstructor', optimizer=dict(fused=True))
