# Mask R-CNN with a plain ViT-B/16 (ViTDet style) fine-tuned on COCO from a FAMT-MAE checkpoint.
# MAE's / ViTDet's recipe: LSJ at 1024 px, 100 epochs (mmdet's LSJ base: 25 epochs over the training set
# repeated 4 times, lr steps at epochs 88 and 96), AdamW, layer-wise lr decay 0.7, drop path 0.1,
# total batch 64 (32 GPUs x 2; other sizes: --auto-scale-lr).
# The backbone checkpoint comes from the pretraining checkpoint through the export tool, which writes it
# to the path below or to one you give; then train with
#   --cfg-options model.backbone.init_cfg.checkpoint=EXPORTED
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::common/lsj-100e_coco-instance.py',
]
custom_imports = dict(imports=['famt_mm.downstream.det'], allow_failed_imports=False)
default_scope = 'mmdet'

model = dict(
    # every input, training and test, padded to 1024 x 1024 (detectron2's square_pad): the position grid
    # stays the training one. Padding here, not with a Pad transform, keeps img_shape the unpadded shape
    # for box clipping (with Pad, boxes in the padding crash mask pasting at test)
    data_preprocessor=dict(pad_size_divisor=1024),
    backbone=dict(
        _delete_=True,
        type='FAMTPlainViT',
        img_size=1024,  # the LSJ crop
        patch_size=16,
        embed_dims=768,  # ViT-B/16, as pretrained at 224 px
        depth=12,
        num_heads=12,
        mlp_ratio=4.0,
        drop_path_rate=0.1,
        window_size=14,  # windowed attention, 14 x 14 patches, in all blocks but the global ones
        global_block_indexes=(2, 5, 8, 11),
        use_rel_pos=True,
        pretrain_img_size=224,
        init_cfg=dict(type='Pretrained', checkpoint='work_dirs/exports/famt-mae_vit-b-p16_mmdet.pth')),
    neck=dict(
        _delete_=True,
        type='FAMTSimpleFeaturePyramid',
        in_channels=768,
        out_channels=256,
        scale_factors=(4.0, 2.0, 1.0, 0.5),
        num_outs=5,
        norm_cfg=dict(type='LN2d', eps=1e-6)),  # pyramid and RoI heads: LayerNorm over channels
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256,
                       norm_cfg=dict(type='LN2d', eps=1e-6)),
        mask_head=dict(norm_cfg=dict(type='LN2d', eps=1e-6))))

train_dataloader = dict(dataset=dict(times=4))  # 25 epochs x 4 repeats = 100 epochs of COCO
# test as ViTDet: the long side at 1024 (padded by the data preprocessor)
val_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 1024), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    constructor='FAMTViTLayerDecayOptimWrapperConstructor',
    # weight decay not on norms, biases, position embeddings and tables
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    paramwise_cfg=dict(
        layer_decay_rate=0.7,  # block i of 12 learns at lr x 0.7 ** (12 - i); neck and heads at lr
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'backbone.pos_embed': dict(decay_mult=0.),
            'attn.rel_pos_h': dict(decay_mult=0.),
            'attn.rel_pos_w': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=250),
    # epochs over the repeated set: steps at 22 and 24 = 88 and 96 epochs of COCO
    dict(type='MultiStepLR', begin=0, end=25, by_epoch=True, milestones=[22, 24], gamma=0.1),
]
train_cfg = dict(max_epochs=25)
