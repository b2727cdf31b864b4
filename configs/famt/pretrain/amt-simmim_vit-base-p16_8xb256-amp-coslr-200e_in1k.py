# AMT-SimMIM: ViT-B/16, ImageNet-1K, 200 epochs; ratios, rounding and refreshes as FAMT-SimMIM
# (famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py), only the weights differ.
_base_ = './famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py'

data_preprocessor = dict(mask_generator=dict(type='AMTMaskGenerator'))
