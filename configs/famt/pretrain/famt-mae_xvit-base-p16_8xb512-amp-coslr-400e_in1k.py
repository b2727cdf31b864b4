# FAMT-MAE with an X-ViT-B/16 encoder (softmax-free attention, linear in the tokens: Song and Lee,
# arXiv 2205.13805) on ImageNet-1K: FAMT-MAE's ViT-B/16 recipe with only the encoder's attention changed.
# The X-ViT settings are the backbone's defaults, this package's reading (docs/method.md section 9).
_base_ = './famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

model = dict(backbone=dict(type='FAMTMAEXViT'))
