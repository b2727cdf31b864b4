# Fine-tuning on Tiny ImageNet of a SimMIM (plain ViT) pretraining checkpoint: as vit-base-p4_1xb256-coslr-100e_tinyimagenet.py with
# SimMIM's layer-wise lr decay. The checkpoint's extra mask_token is logged as unused.
_base_ = './vit-base-p4_1xb256-coslr-100e_tinyimagenet.py'

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
