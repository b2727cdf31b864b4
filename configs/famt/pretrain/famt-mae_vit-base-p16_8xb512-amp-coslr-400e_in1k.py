# FAMT-MAE: ViT-B/16, ImageNet-1K, 224 px, 400 epochs, 8 GPUs x 512. mmpretrain's MAE recipe with FAMT's
# masking (mask 0.45, throw 0.40: the encoder sees 30 of 196 patches) and importance refreshes after 40
# epochs and every 40 after; exactly the worked example of adding FAMT to an mmpretrain config.
_base_ = '../examples/famt-mae_vit-base-p16_own-config_in1k.py'
