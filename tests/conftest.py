import copy
import os
import os.path as osp
import sys
import uuid

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(ROOT, 'configs', 'famt', 'demo_mae_vit-tiny_digits.py')
# Tests load mmengine checkpoints with torch's weights-only check on where famt_mm can allow-list their
# metadata (torch >= 2.4); older torch has no allow-list, and its torch.load defaults to weights_only=False.
WEIGHTS_ONLY = hasattr(torch.serialization, 'add_safe_globals')

# keep the suite fast and deterministic on 2 cores
os.environ.setdefault('OMP_NUM_THREADS', '2')


def tiny_mae_cfg(img_size=16, patch_size=4, mask_generator=None, **preprocessor):
    """Model config of a tiny FAMT-MAE (2 blocks, 32 dims)."""
    mask_generator = mask_generator or dict(type='FAMTMaskGenerator')
    return dict(
        type='FAMTMAE',
        data_preprocessor=dict(type='FAMTDataPreprocessor', mask_generator=mask_generator,
                               patch_size=patch_size, mean=[127.5] * 3, std=[127.5] * 3,
                               **preprocessor),
        backbone=dict(type='FAMTMAEViT',
                      arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64),
                      img_size=img_size, patch_size=patch_size),
        neck=dict(type='FAMTMAEPretrainDecoder', num_patches=(img_size // patch_size)**2,
                  patch_size=patch_size, in_chans=3, embed_dim=32, decoder_embed_dim=16,
                  decoder_depth=1, decoder_num_heads=2, mlp_ratio=2.),
        head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=patch_size,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2')))


def demo_cfg(work_dir, max_epochs=3, start_epoch=1, interval=2, num_images=48, img_size=16):
    """The demo config shrunk to a tiny model and a few digits, for Runner tests."""
    from mmengine.config import Config
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'famt_test_{uuid.uuid4().hex[:8]}'  # runners in one second stay apart
    cfg.model = tiny_mae_cfg(img_size=img_size, patch_size=4,
                             mask_generator=cfg.data_preprocessor.mask_generator)
    for pipeline in (cfg.train_dataloader.dataset.pipeline, cfg.whole_image_pipeline):
        for t in pipeline:
            if 'scale' in t:
                t.scale = img_size if isinstance(t.scale, int) else (img_size, img_size)
    cfg.train_dataloader.dataset.indices = num_images
    cfg.train_dataloader.batch_size = 16
    cfg.custom_hooks = [
        dict(type='FAMTRefreshHook', pipeline=copy.deepcopy(cfg.whole_image_pipeline),
             start_epoch=start_epoch, interval=interval, batch_size=16)
    ]
    cfg.train_cfg.max_epochs = max_epochs
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, max_keep_ckpts=10)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_level = 'WARNING'
    return cfg


@pytest.fixture(scope='session', autouse=True)
def _register():
    import famt_mm  # noqa: F401
    from mmengine.registry import DefaultScope
    if not DefaultScope.check_instance_created('famt_tests'):
        DefaultScope.get_instance('famt_tests', scope_name='mmpretrain')
    sys.path.insert(0, ROOT)
