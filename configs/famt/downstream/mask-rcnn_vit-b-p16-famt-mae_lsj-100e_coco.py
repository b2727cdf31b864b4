# Mask R-CNN with a plain ViT-B/16 (ViTDet style) fine-tuned on COCO from a FAMT-MAE checkpoint.
# MAE's / ViTDet's recipe: LSJ at 1024 px, 100 epochs (mmdet's LSJ base: 25 epochs over the training set
# repeated 4 times, lr steps at epochs 88 and 96), AdamW, layer-wise lr decay 0.7, drop path 0.1,
# total batch 64 (32 GPUs x 2; other sizes: --auto-scale-lr).
# The backbone checkpoint comes from the pretraining checkpoint through the export tool:
#   python tools/export_backbone.py work_dirs/mae_vitb_in1k/epoch_400.pth THIS_CONFIG PRETRAINED
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::common/lsj-100e_coco-instance.py',
]
custom_imports = dict(imports=['famt_mm.downstream.det'], allow_failed_imports=False)
default_scope = 'mmdet'

# ---- knobs ----------------------------------------------------------------------------------------
pretrained = 'work_dirs/exports/famt-mae_vit-b-p16_mmdet.pth'  # written by tools/export_backbone.py
image_size = (1024, 1024)  # LSJ crop; the input of every training batch (padded)
embed_dims = 768  # ViT-B/16, as pretrained at 224 px
depth = 12
num_heads = 12
pretrain_img_size = 224
window_size = 14  # windowed attention, 14 x 14 patches, in all blocks but these:
global_block_indexes = (2, 5, 8, 11)
drop_path_rate = 0.1
layer_decay_rate = 0.7  # block i of 12 learns at lr x 0.7 ** (12 - i); neck and heads at lr
lr = 1e-4
weight_decay = 0.1  # not on norms, biases, position embeddings and tables
warmup_iters = 250
max_epochs = 25  # epochs over the repeated set: 25 x repeat_times 4 = 100 epochs of COCO
repeat_times = 4
lr_steps = (22, 24)  # = 88 and 96 epochs of COCO
norm_cfg = dict(type='LN2d', eps=1e-6)  # pyramid and RoI heads: LayerNorm over channels
# ---------------------------------------------------------------------------------------------------

model = dict(
    # every input, training and test, padded to 1024 x 1024 (detectron2's square_pad): the position grid
    # stays the training one. Padding here, not with a Pad transform, keeps img_shape the unpadded shape
    # for box clipping (with Pad, boxes in the padding crash mask pasting at test)
    data_preprocessor=dict(pad_size_divisor=image_size[0]),
    backbone=dict(
        _delete_=True,
        type='PlainViT',
        img_size=image_size[0],
        patch_size=16,
        embed_dims=embed_dims,
        depth=depth,
        num_heads=num_heads,
        mlp_ratio=4.0,
        drop_path_rate=drop_path_rate,
        window_size=window_size,
        global_block_indexes=global_block_indexes,
        use_rel_pos=True,
        pretrain_img_size=pretrain_img_size,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(
        _delete_=True,
        type='SimpleFeaturePyramid',
        in_channels=embed_dims,
        out_channels=256,
        scale_factors=(4.0, 2.0, 1.0, 0.5),
        num_outs=5,
        norm_cfg=norm_cfg),
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256, norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

# test as ViTDet: the long side at 1024 (padded by the data preprocessor)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(dataset=dict(times=repeat_times))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    constructor='ViTLayerDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=weight_decay),
    paramwise_cfg=dict(
        layer_decay_rate=layer_decay_rate,
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'backbone.pos_embed': dict(decay_mult=0.),
            'attn.rel_pos_h': dict(decay_mult=0.),
            'attn.rel_pos_w': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=list(lr_steps),
         gamma=0.1),
]
train_cfg = dict(max_epochs=max_epochs)
