# Fine-tuning on ImageNet-1K of a SimMIM (plain ViT) pretraining checkpoint: as vit-base-p16_8xb128-coslr-100e_in1k.py with
# SimMIM's layer-wise lr decay. The checkpoint's extra mask_token is logged as unused.
_base_ = './vit-base-p16_8xb128-coslr-100e_in1k.py'

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
