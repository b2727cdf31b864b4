# UperNet with a plain ViT-B/16 fine-tuned on ADE20K from a FAMT-MAE checkpoint: mmseg's MAE recipe
# (512 x 512 crops, 160k iterations, 8 GPUs x 2, AdamW lr 1e-4, layer-wise lr decay 0.65, drop path 0.1)
# inherited as it is, with a checked backbone loader and AMP through the optimizer wrapper.
# The backbone checkpoint comes from the pretraining checkpoint through the export tool, which writes it
# to the path below or to one you give; then train with
#   --cfg-options model.backbone.init_cfg.checkpoint=EXPORTED
_base_ = 'mmseg::mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py'
custom_imports = dict(imports=['famt_mm.downstream.seg'], allow_failed_imports=False)
default_scope = 'mmseg'

model = dict(
    pretrained=None,  # the base's ./pretrain/ path would reach the backbone unchecked
    backbone=dict(
        type='FAMTCheckedMAE',  # mmseg's MAE; raises unless the checkpoint initialises every weight
        init_values=1.0,  # layer scale starts at 1: the pretrained ViT has none
        init_cfg=dict(type='Pretrained', checkpoint='work_dirs/exports/famt-mae_vit-b-p16_mmseg.pth')))

# AMP: mmseg 1.x ignores the base's `fp16 = dict(loss_scale='dynamic')`; AmpOptimWrapper does it
fp16 = None
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    # layer i of 12 learns at lr x 0.65 ** (12 - i); decoder heads at lr
    paramwise_cfg=dict(num_layers=12, layer_decay_rate=0.65))
