# Fine-tuning on CIFAR-100 of a checkpoint from ../pretrain/*_cifar100.py: as
# vit-base-p2_1xb256-coslr-100e_cifar10.py but the data.
_base_ = './vit-base-p2_1xb256-coslr-100e_cifar10.py'

data_preprocessor = dict(num_classes=100)
model = dict(head=dict(num_classes=100))
train_dataloader = dict(dataset=dict(type='LocalCIFAR100', data_root='data/cifar100'))  # cifar-100-python/
val_dataloader = dict(dataset=dict(type='LocalCIFAR100', data_root='data/cifar100'))
test_dataloader = val_dataloader
