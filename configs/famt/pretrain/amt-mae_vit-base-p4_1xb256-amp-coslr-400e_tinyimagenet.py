# AMT-MAE baseline (CLS-attention weights only) on Tiny ImageNet: as famt-mae_vit-base-p4_1xb256-amp-coslr-400e_tinyimagenet.py
# but the masking.
_base_ = './famt-mae_vit-base-p4_1xb256-amp-coslr-400e_tinyimagenet.py'

# ---- knobs: AMT's weights; ratios and refresh schedule as FAMT -----------------------------------
mask_generator = dict(_delete_=True, type='AMTMaskGenerator', mask_ratio=0.45, throw_ratio=0.40,
                      warmup_mask_ratio=0.75)

data_preprocessor = dict(mask_generator=mask_generator)
