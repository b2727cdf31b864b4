# AMT-MAE (attention only, the AAAI 2023 predecessor): ViT-B/16, ImageNet-1K, 400 epochs; ratios and
# refreshes as FAMT-MAE, only the weights differ (CLS->patch attention).
_base_ = './famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

data_preprocessor = dict(mask_generator=dict(type='AMTMaskGenerator'))
