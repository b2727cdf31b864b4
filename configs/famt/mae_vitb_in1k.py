# The entry point of the quick start: FAMT-MAE, ViT-B/16, ImageNet-1K, 400 epochs
# (configs/famt/pretrain/famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py). Change settings in a child
# config, or with --cfg-options, e.g. data_preprocessor.mask_generator.mask_ratio=0.5.
_base_ = './pretrain/famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'
