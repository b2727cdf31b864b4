# AMT-MAE (attention only, the AAAI 2023 predecessor): ViT-B/16, ImageNet-1K, 400 epochs.
_base_ = './famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

# ---- knobs: AMT's weights (CLS->patch attention); ratios and refresh schedule as FAMT ------------
mask_generator = dict(type='AMTMaskGenerator', mask_ratio=0.45, throw_ratio=0.40,
                      warmup_mask_ratio=0.75)

data_preprocessor = dict(mask_generator=mask_generator)
