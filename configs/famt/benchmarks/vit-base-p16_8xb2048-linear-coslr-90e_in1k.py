# Linear probe of a famt_mm MAE pretraining checkpoint (FAMT-, AMT- or plain MAE) on ImageNet-1K
# with MAE's recipe as mmpretrain ships it: frozen ViT-B/16, CLS token after the final norm,
# BatchNorm without affine before the linear head, LARS (lr 0.1 per 256), 90 epochs (10 warm-up),
# 8 x 2048. The checkpoint's backbone keys are checked before training (FAMTCheckPretrainedKeys): a
# checkpoint that does not cover the ViT fails instead of probing a random encoder. The checkpoint:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = 'mmpretrain::mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

model = dict(
    init_cfg=dict(type='FAMTCheckPretrainedKeys'),  # every probe key must come from the checkpoint
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))
train_dataloader = dict(dataset=dict(data_root='data/imagenet'))
val_dataloader = dict(dataset=dict(data_root='data/imagenet'))
test_dataloader = dict(dataset=dict(data_root='data/imagenet'))
auto_scale_lr = dict(base_batch_size=16384)  # lr 6.4 = 0.1 * 16384 / 256
