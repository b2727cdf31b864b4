"""Builders of tiny FAMT models and runs for tests, as OpenMMLab packages keep in ``*.testing``.

Importable from test modules, helper scripts and spawned DDP workers alike (no pytest needed).
"""

import importlib.util
import uuid

from ..utils.configs import find_config

#: the embedded demo, relative to famt_mm's config root
DEMO_CONFIG = 'famt/pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py'


def tiny_mae_cfg(
    img_size: int = 16, patch_size: int = 4, mask_generator: dict = None, **preprocessor
) -> dict:
    """Model config of a tiny FAMT-MAE (2 blocks, 32 dims)."""
    mask_generator = mask_generator or dict(type='FAMTMaskGenerator')
    return dict(
        type='FAMTMAE',
        data_preprocessor=dict(
            type='FAMTDataPreprocessor',
            mask_generator=mask_generator,
            patch_size=patch_size,
            mean=[127.5] * 3,
            std=[127.5] * 3,
            **preprocessor,
        ),
        backbone=dict(
            type='FAMTMAEViT',
            arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
            img_size=img_size,
            patch_size=patch_size,
        ),
        neck=dict(
            type='FAMTMAEPretrainDecoder',
            num_patches=(img_size // patch_size) ** 2,
            patch_size=patch_size,
            in_chans=3,
            embed_dim=32,
            decoder_embed_dim=16,
            decoder_depth=1,
            decoder_num_heads=2,
            mlp_ratio=2.0,
        ),
        head=dict(
            type='MAEPretrainHead',
            norm_pix=True,
            patch_size=patch_size,
            loss=dict(type='PixelReconstructionLoss', criterion='L2'),
        ),
    )


def vit_simmim_cfg(
    img_size: int = 16, patch_size: int = 4, unit_size: int = 8, mask_generator: dict = None
) -> dict:
    """Model config of a tiny FAMT-SimMIM ViT (2 blocks, 32 dims) that masks and throws units."""
    mask_generator = mask_generator or dict(
        type='FAMTMaskGenerator', mask_ratio=0.5, throw_ratio=0.25, warmup_mask_ratio=0.5
    )
    return dict(
        type='FAMTSimMIM',
        data_preprocessor=dict(
            type='FAMTDataPreprocessor',
            mask_generator=mask_generator,
            patch_size=patch_size,
            unit_size=unit_size,
            mean=[127.5] * 3,
            std=[127.5] * 3,
        ),
        backbone=dict(
            type='FAMTSimMIMViT',
            arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
            img_size=img_size,
            patch_size=patch_size,
        ),
        neck=dict(type='FAMTSimMIMLinearDecoder', in_channels=32, encoder_stride=patch_size),
        head=dict(
            type='SimMIMHead',
            patch_size=patch_size,
            loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3),
        ),
    )


def swin_simmim_cfg(mask_generator: dict = None) -> dict:
    """Model config of a tiny FAMT-SimMIM Swin (two 1-block stages, 32 px): guided masking only."""
    mask_generator = mask_generator or dict(
        type='FAMTMaskGenerator', mask_ratio=0.5, throw_ratio=0.0, warmup_mask_ratio=0.5
    )
    return dict(
        type='FAMTSimMIM',
        data_preprocessor=dict(
            type='FAMTDataPreprocessor',
            mask_generator=mask_generator,
            patch_size=4,
            unit_size=16,
            mean=[127.5] * 3,
            std=[127.5] * 3,
        ),
        backbone=dict(
            type='FAMTSimMIMSwin',
            arch=dict(embed_dims=16, depths=[1, 1], num_heads=[2, 2]),
            img_size=32,
            stage_cfgs=dict(block_cfgs=dict(window_size=4)),
            out_indices=(1,),
        ),
        neck=dict(type='SimMIMLinearDecoder', in_channels=32, encoder_stride=8),
        head=dict(
            type='SimMIMHead',
            patch_size=4,
            loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3),
        ),
    )


def demo_cfg(
    work_dir,
    max_epochs: int = 3,
    start_epoch: int = 1,
    interval: int = 2,
    num_images: int = 48,
    img_size: int = 16,
):
    """The demo config shrunk to a tiny model and a few digits, for Runner tests (the scoring pipeline
    is derived from the training pipeline, as in the demo; no probe)."""
    from mmengine.config import Config

    cfg = Config.fromfile(find_config(DEMO_CONFIG))
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'famt_test_{uuid.uuid4().hex[:8]}'  # runners in one second stay apart
    cfg.model = tiny_mae_cfg(
        img_size=img_size, patch_size=4, mask_generator=cfg.data_preprocessor.mask_generator
    )
    for t in cfg.train_dataloader.dataset.pipeline:
        if 'scale' in t:
            t.scale = img_size if isinstance(t.scale, int) else (img_size, img_size)
    cfg.train_dataloader.dataset.indices = num_images
    cfg.train_dataloader.batch_size = 16
    cfg.custom_hooks = [
        dict(type='FAMTRefreshHook', start_epoch=start_epoch, interval=interval, batch_size=16)
    ]
    cfg.train_cfg.max_epochs = max_epochs
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, max_keep_ckpts=10)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_level = 'WARNING'
    return cfg


def whole_image_pipeline(img_size: int = 16) -> list:
    """The demo's whole-image transforms at ``img_size`` (what its scoring pipeline derives to)."""
    return [dict(type='Resize', scale=(img_size, img_size), interpolation='bicubic'), dict(type='PackInputs')]


def tiny_mff_cfg(img_size: int = 16, patch_size: int = 4, mask_generator: dict = None) -> dict:
    """Model config of a tiny FAMT-MFF: the tiny FAMT-MAE with blocks 0 and 1 fused."""
    cfg = tiny_mae_cfg(img_size, patch_size, mask_generator)
    cfg.update(type='FAMTMFF', backbone=dict(cfg['backbone'], type='FAMTMFFViT', out_indices=[0, 1]))
    return cfg


def tiny_maskfeat_cfg(mask_generator: dict = None) -> dict:
    """Model config of a tiny FAMT-MaskFeat ViT (2 blocks, 32 dims, 56 px in 4-px patches).

    MaskFeat's HOG target groups its cells into a 14 x 14 grid, hence 56 px: 2-px HOG cells, 2 x 2
    cells per 4-px patch, 108 values a patch as at 224 px.
    """
    mask_generator = mask_generator or dict(
        type='FAMTMaskGenerator', mask_ratio=0.4, throw_ratio=0.3, warmup_mask_ratio=0.4
    )
    return dict(
        type='FAMTMaskFeat',
        data_preprocessor=dict(
            type='FAMTDataPreprocessor',
            mask_generator=mask_generator,
            patch_size=4,
            mean=[127.5] * 3,
            std=[127.5] * 3,
        ),
        backbone=dict(
            type='FAMTMaskFeatViT',
            arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
            img_size=56,
            patch_size=4,
        ),
        neck=dict(type='LinearNeck', in_channels=32, out_channels=108, norm_cfg=None),
        head=dict(type='MIMHead', loss=dict(type='PixelReconstructionLoss', criterion='L2')),
        target_generator=dict(type='HOGGenerator', nbins=9, pool=2, gaussian_window=14),
    )


def tiny_spark_cfg(img_size: int = 128, mask_generator: dict = None) -> dict:
    """Model config of a tiny FAMT-SparK on a sparse ResNet-18 with 8 base channels (64 at the last
    stage), 32-px masking units (the final stride): a 4 x 4 unit grid at 128 px."""
    mask_generator = mask_generator or dict(
        type='FAMTMaskGenerator',
        mask_ratio=0.6,
        throw_ratio=0.0,
        warmup_mask_ratio=0.6,
        throw_mode='off',
        weight_source='frequency',
    )
    return dict(
        type='FAMTSparK',
        data_preprocessor=dict(
            type='FAMTDataPreprocessor',
            mask_generator=mask_generator,
            patch_size=32,
            mean=[127.5] * 3,
            std=[127.5] * 3,
        ),
        input_size=img_size,
        downsample_raito=32,
        mask_ratio=0.6,
        enc_dec_norm_cfg=dict(type='SparseBatchNorm2d'),
        enc_dec_norm_dim=64,
        backbone=dict(
            type='SparseResNet',
            depth=18,
            stem_channels=8,
            base_channels=8,
            out_indices=(0, 1, 2, 3),
            norm_cfg=dict(type='SparseBatchNorm2d'),
        ),
        neck=dict(
            type='SparKLightDecoder',
            feature_dim=32,
            upsample_ratio=32,
            mid_channels=0,
            norm_cfg=dict(type='BN'),
            last_act=False,
        ),
        head=dict(
            type='SparKPretrainHead', patch_size=32, loss=dict(type='PixelReconstructionLoss', criterion='L2')
        ),
    )


def tiny_spark_convnext_cfg(img_size: int = 128, mask_generator: dict = None) -> dict:
    """Model config of a tiny FAMT-SparK on a sparse ConvNeXt (one block per stage, 8 to 64 channels),
    32-px masking units (the final stride, as ConvNeXt-S's): a 4 x 4 unit grid at 128 px. LayerNorms
    as in mmpretrain's SparK ConvNeXt config; the decoder's BatchNorm is plain (one process)."""
    cfg = tiny_spark_cfg(img_size, mask_generator)
    cfg.update(
        enc_dec_norm_cfg=dict(type='SparseLN2d', eps=1e-6),
        backbone=dict(
            type='SparseConvNeXt',
            arch=dict(depths=[1, 1, 1, 1], channels=[8, 16, 32, 64]),
            out_indices=(0, 1, 2, 3),
            gap_before_output=False,
        ),
    )
    return cfg


def build_runner(cfg):
    """The runner a config asks for (``runner_type``, as mmpretrain's ``tools/train.py`` builds it)."""
    from mmpretrain.registry import RUNNERS

    return RUNNERS.build(cfg)


def load_script(path: str, name: str):
    """The module of a tool script (``tools/*.py`` are scripts, not package modules), for tests that
    call its ``parse_args`` / ``main`` in-process."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
