# The entry point of the quick start: FAMT-MAE, ViT-B/16, ImageNet-1K, 400 epochs.
# The recipe and its knobs live in the fully named config: change them there, or write a child config
# that restates the dicts using the knobs it changes (docs/configs.md).
_base_ = './pretrain/famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'
