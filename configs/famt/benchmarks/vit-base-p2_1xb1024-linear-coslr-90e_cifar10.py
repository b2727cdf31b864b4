# Linear probe on CIFAR-10 of a checkpoint from ../pretrain/*_cifar10.py: MAE's recipe as
# vit-base-p16_8xb2048-linear-coslr-90e_in1k.py (frozen ViT-B, BatchNorm without affine, LARS lr 0.1 per
# 256, 90 epochs) at the pretraining's 32 px / 2-px patches, batch 1024, on the 50,000 training and 10,000
# test images. The CIFAR-100, STL-10 and Tiny ImageNet probes inherit it.
_base_ = './vit-base-p16_8xb2048-linear-coslr-90e_in1k.py'

data_preprocessor = dict(num_classes=10, to_rgb=False)  # the images are RGB arrays in memory
model = dict(backbone=dict(img_size=32, patch_size=2), head=dict(num_classes=10))
train_dataloader = dict(
    batch_size=1024,  # per GPU; the lr below assumes 1024 in total (--auto-scale-lr for others)
    num_workers=4,
    dataset=dict(
        _delete_=True,
        type='LocalCIFAR10',
        data_root='data/cifar10',  # holds cifar-10-batches-py/
        split='train',
        pipeline=[
            dict(type='RandomResizedCrop', scale=32, backend='pillow', interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackInputs'),
        ]))
val_dataloader = dict(
    batch_size=1024,
    num_workers=4,
    dataset=dict(_delete_=True, type='LocalCIFAR10', data_root='data/cifar10', split='test',
                 pipeline=[dict(type='PackInputs')]))  # the whole image at its native size
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.1 * 1024 / 256))  # MAE's linear-probe lr per 256 (LARS)
auto_scale_lr = dict(base_batch_size=1024)
