# FAMT-MAE: ViT-B on CIFAR-100 (32 px, 2-px patches): everything as
# famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py but the data.
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py'

train_dataloader = dict(dataset=dict(type='LocalCIFAR100', data_root='data/cifar100'))  # cifar-100-python/
