# Fine-tuning on CIFAR-100 of a SimMIM (plain ViT) pretraining checkpoint: as vit-base-p2_1xb256-coslr-100e_cifar100.py with
# SimMIM's layer-wise lr decay. The checkpoint's extra mask_token is logged as unused.
_base_ = './vit-base-p2_1xb256-coslr-100e_cifar100.py'

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
