# Fine-tuning of a FAMT-MAE X-ViT-B/16 checkpoint
# (configs/famt/pretrain/famt-mae_xvit-base-p16_8xb512-amp-coslr-400e_in1k.py) on ImageNet-1K:
# mmpretrain's ImageClassifier with the ViT-B/16 fine-tuning recipe of vit-base-p16_8xb128-coslr-100e_in1k.py,
# the backbone an FAMTXViT (every key of the checkpoint's encoder, each block's xnorm_scale included).
_base_ = './vit-base-p16_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(type='FAMTXViT'))
