# FAMT-SimMIM with Swin-B: ImageNet-1K, 192 px, 100 epochs, 8 GPUs x 256, GUIDED MASKING ONLY.
# Swin's window attention needs every position of its grid, so nothing is thrown (throw_ratio = 0): FAMT
# only chooses which 32-px units are masked. Importance comes from the last stage's last block (6x6 tokens
# at 192 px, one window): frequency factor of its tokens x the attention each token receives (Swin has no
# CLS token), stored as a 6x6 map per image and warped / summed to the 6x6 units of each view.
_base_ = 'mmpretrain::simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

# ---- FAMT knobs ---------------------------------------------------------------------------------
mask_ratio = 0.6  # SimMIM's ratio for Swin, now drawn from the importance weights
warmup_mask_ratio = 0.6  # plain SimMIM random masking until the first refresh
refresh_start_epoch = 10  # warm-up epochs (the lr warm-up of this recipe)
refresh_interval = 10  # about 10 % of the 100-epoch schedule
refresh_batch_size = 256  # per GPU
# counts rounded up as SimMIM's own mask generator does: ceil(36 * 0.6) = 22 of the 6x6 units
mask_generator = dict(type='FAMTMaskGenerator', mask_ratio=mask_ratio, throw_ratio=0.0,
                      warmup_mask_ratio=warmup_mask_ratio, count_rounding='ceil_each')
img_size = 192
unit_size = 32
# -------------------------------------------------------------------------------------------------

data_preprocessor = dict(
    type='FAMTDataPreprocessor', mask_generator=mask_generator, patch_size=4, unit_size=unit_size)
model = dict(type='FAMTSimMIM', backbone=dict(type='FAMTSimMIMSwin'))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCropWithBox', scale=img_size, crop_ratio_range=(0.67, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackFAMTInputs'),
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    # restated: the dict inherited across packages carries `_scope_`, which mmengine's Runner would
    # pass on to default_collate as an argument
    collate_fn=dict(_delete_=True, type='default_collate'))
score_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
custom_hooks = [
    dict(type='FAMTRefreshHook', pipeline=score_pipeline, start_epoch=refresh_start_epoch,
         interval=refresh_interval, batch_size=refresh_batch_size),
]

# torch's fused AdamW (one kernel over all parameters) where torch has one for the parameters' device,
# and an optimizer step that compile=True leaves eager (famt_mm/engine/optim_constructor.py)
optim_wrapper = dict(constructor='FAMTOptimWrapperConstructor', optimizer=dict(fused=True))
