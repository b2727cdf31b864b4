# The entry point of the quick start: FAMT-MAE, ViT-B/16, ImageNet-1K, 400 epochs.
# The recipe and its knobs live in the fully named config; change them there or override here.
_base_ = './pretrain/famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'
