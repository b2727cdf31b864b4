# FAMT-MAE: ViT-B on CIFAR-10 at its native 32 px with 2-px patches (16 x 16 = 256 patches, close to
# ImageNet's 14 x 14), 400 epochs, batch 256: MAE's recipe (optimiser, schedule, decoder, loss, ratios)
# as famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py; only data, resolution and batch change. The
# CIFAR-100, STL-10 and Tiny ImageNet configs inherit this one.
_base_ = './famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

data_preprocessor = dict(to_rgb=False)  # the images are RGB arrays in memory
model = dict(backbone=dict(img_size=32, patch_size=2))
train_dataloader = dict(
    batch_size=256,  # per GPU; the lr below assumes 256 in total (--auto-scale-lr for others)
    num_workers=4,
    dataset=dict(
        _delete_=True,
        type='LocalCIFAR10',  # famt_mm's reader of the python pickle batches (no download)
        data_root='data/cifar10',  # holds cifar-10-batches-py/
        split='train',
        pipeline=[
            dict(type='FAMTRandomResizedCropWithBox', scale=32, crop_ratio_range=(0.2, 1.0),
                 backend='pillow', interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackFAMTInputs'),
        ]))
optim_wrapper = dict(optimizer=dict(lr=1.5e-4))  # MAE's base lr per 256 images
auto_scale_lr = dict(base_batch_size=256)
