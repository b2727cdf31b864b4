# AMT-SimMIM (attention only): ViT-B/16, ImageNet-1K, 200 epochs; everything else as famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py.
_base_ = './famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py'

# ---- knobs: AMT's weights (CLS->patch attention); ratios and refresh schedule as FAMT-SimMIM ------
mask_generator = dict(type='AMTMaskGenerator', mask_ratio=0.44, throw_ratio=0.26,
                      warmup_mask_ratio=0.6)

data_preprocessor = dict(mask_generator=mask_generator)
