# Linear probe on STL-10 of a checkpoint from ../pretrain/*_stl10.py: as
# vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py at the pretraining's 96 px / 6-px patches, on the 5,000
# labelled training and 8,000 test images.
_base_ = './vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py'

model = dict(backbone=dict(img_size=96, patch_size=6))
train_dataloader = dict(
    batch_size=512,  # per GPU (5,000 training images); the lr below assumes 512 in total
    dataset=dict(type='LocalSTL10', data_root='data/stl10', pipeline=[  # data_root holds stl10_binary/
        dict(type='RandomResizedCrop', scale=96, backend='pillow', interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]))
val_dataloader = dict(batch_size=512, dataset=dict(type='LocalSTL10', data_root='data/stl10'))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.1 * 512 / 256))
auto_scale_lr = dict(base_batch_size=512)
