# Fine-tuning on CIFAR-10 of a checkpoint from ../pretrain/*_cifar10.py: MAE's recipe as
# vit-base-p16_8xb128-coslr-100e_in1k.py (100 epochs, layer decay 0.75, RandAugment, mixup, cutmix, random
# erasing, label smoothing) at the pretraining's 32 px / 2-px patches, batch 256. The CIFAR-100, STL-10
# and Tiny ImageNet fine-tunes inherit it.
_base_ = './vit-base-p16_8xb128-coslr-100e_in1k.py'

data_preprocessor = dict(num_classes=10, to_rgb=False)  # the images are RGB arrays in memory
model = dict(backbone=dict(img_size=32, patch_size=2), head=dict(num_classes=10))
train_dataloader = dict(
    batch_size=256,  # per GPU; the lr below assumes 256 in total (--auto-scale-lr for others)
    num_workers=4,
    dataset=dict(
        _delete_=True,
        type='LocalCIFAR10',
        data_root='data/cifar10',  # holds cifar-10-batches-py/
        split='train',
        # mmpretrain's MAE fine-tuning pipeline at 32 px, without LoadImageFromFile; fill values in the
        # images' channel order (RGB)
        pipeline=[
            dict(type='RandomResizedCrop', scale=32, backend='pillow', interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
                 magnitude_level=9, magnitude_std=0.5,
                 hparams=dict(pad_val=[124, 116, 104], interpolation='bicubic')),
            dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
                 max_area_ratio=1 / 3, fill_color=[123.675, 116.28, 103.53],
                 fill_std=[58.395, 57.12, 57.375]),
            dict(type='PackInputs'),
        ]))
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    dataset=dict(_delete_=True, type='LocalCIFAR10', data_root='data/cifar10', split='test',
                 pipeline=[dict(type='PackInputs')]))  # the whole image at its native size
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=5e-4))  # MAE's fine-tuning lr per 256 images
auto_scale_lr = dict(base_batch_size=256)
