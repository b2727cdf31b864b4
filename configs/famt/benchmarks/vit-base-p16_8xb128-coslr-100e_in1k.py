# Fine-tuning of a famt_mm MAE pretraining checkpoint on ImageNet-1K with MAE's recipe as mmpretrain
# ships it (ViT-B/16, average-pooled tokens, AdamW lr 5e-4 per 256, 100 epochs with 5 warm-up,
# drop path 0.1, RandAugment, mixup 0.8, cutmix 1.0, random erasing 0.25, label smoothing 0.1,
# 8 x 128), with the layer-wise lr decay of the FAMT papers for MAE: 0.75 (mmpretrain ships 0.65).
# vit-base-p16_8xb128-simmim-coslr-100e_in1k.py is the SimMIM variant (0.65). The pretraining checkpoint:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = 'mmpretrain::mae/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py'
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)

model = dict(
    # every key must come from the checkpoint but ln2, the new norm of the pooled tokens (the
    # pretrained final norm ln1 is not used with final_norm=False, as in MAE's fine-tuning)
    init_cfg=dict(type='FAMTCheckPretrainedKeys', allow_missing=[r'ln2\.']),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))
train_dataloader = dict(dataset=dict(data_root='data/imagenet'))
val_dataloader = dict(dataset=dict(data_root='data/imagenet'))
test_dataloader = dict(dataset=dict(data_root='data/imagenet'))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.75))  # MAE; SimMIM: 0.65
