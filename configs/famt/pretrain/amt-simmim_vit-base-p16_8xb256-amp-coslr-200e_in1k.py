# AMT-SimMIM (attention only): ViT-B/16, ImageNet-1K, 200 epochs; everything else as famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py.
_base_ = './famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py'

# ---- knobs: AMT's weights (CLS->patch attention); ratios and refresh schedule as FAMT-SimMIM ------
# warm-up at 0.44 and each count rounded up (22 / 13 / 14 units), as the official SimMIM-AMT code
mask_generator = dict(type='AMTMaskGenerator', mask_ratio=0.44, throw_ratio=0.26,
                      warmup_mask_ratio=0.44, count_rounding='ceil_each')

data_preprocessor = dict(mask_generator=mask_generator)
