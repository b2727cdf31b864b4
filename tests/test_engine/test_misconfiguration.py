"""Mistakes a new user makes are refused before the first step (naming the remedy), or made to work; a
refused run writes no checkpoint and touches no earlier one."""

import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from famt_mm.engine import CHECKPOINT_KEY, FAMTRunner
from famt_mm.testing import build_runner, demo_cfg, tiny_mae_cfg
from famt_mm.testing.runs import record_plans, refresh_hook_of


def _logs(runner, level: str) -> list:
    seen = []
    original = getattr(runner.logger, level)
    setattr(runner.logger, level, lambda msg, *a, **k: seen.append(msg) or original(msg, *a, **k))
    return seen


def _refused_before_the_first_step(runner, error, match):
    with pytest.raises(error, match=match):
        runner.train()
    assert runner.iter == 0 and not glob.glob(osp.join(runner.work_dir, '*.pth'))


@pytest.mark.parametrize(
    'name,where',
    [
        ('mask_ratio', 'data_preprocessor.mask_generator.mask_ratio'),
        ('refresh_interval', r'custom_hooks.N.interval \(the FAMTRefreshHook entry\)'),
        ('img_size', "model.backbone.img_size and the training crop's scale"),
    ],
)
def test_a_top_level_setting_that_nothing_reads_is_refused(tmp_path, name, where):
    """--cfg-options mask_ratio=0.3 would otherwise set a name no dict reads."""
    cfg = demo_cfg(tmp_path)
    cfg.merge_from_dict({name: 0.3})
    cfg.runner_type = 'FAMTRunner'
    with pytest.raises(ValueError, match=f'nothing reads.*{name} is set as {where}'):
        FAMTRunner.from_cfg(cfg)


def test_a_stock_algorithm_in_a_famt_config_is_refused_when_built(tmp_path):
    cfg = demo_cfg(tmp_path)
    cfg.model.type = 'MAE'
    cfg.model.backbone.type = 'MAEViT'
    cfg.model.neck.type = 'MAEPretrainDecoder'
    with pytest.raises(
        TypeError,
        match=r'MAE takes no mask plan from FAMTDataPreprocessor: use the FAMT '
        r"algorithm, model=dict\(type='FAMTMAE', ...\)",
    ):
        build_runner(cfg)


@pytest.mark.parametrize(
    'part,stock,famt',
    [
        (
            'backbone',
            'MAEViT',
            r'needs a backbone that takes a mask plan \(FAMTMAEViT or FAMTMAEXViT\), got '
            r'MAEViT: set '
            r"backbone=dict\(type='FAMTMAEViT', ...\)",
        ),
        (
            'neck',
            'MAEPretrainDecoder',
            r"needs a decoder that takes the plan's positions: neck=dict\("
            r"type='FAMTMAEPretrainDecoder', ...\), got MAEPretrainDecoder",
        ),
    ],
)
def test_a_stock_part_under_famt_mae_is_refused_when_built(part, stock, famt):
    cfg = tiny_mae_cfg()
    cfg[part]['type'] = stock
    with pytest.raises(TypeError, match=famt):
        MODELS.build(cfg)


def test_a_decoder_left_at_another_patch_count_follows_the_backbone():
    """The base's 196 for a 64-patch model: stock MAE fails loudly, FAMT's gathered positions would
    train with the wrong table silently; the decoder takes the backbone's count instead."""
    cfg = tiny_mae_cfg(img_size=32, patch_size=4)
    cfg['neck'].update(num_patches=196, patch_size=16)
    model = MODELS.build(cfg)
    model.init_weights()
    assert model.neck.num_patches == 64 and model.neck.decoder_pos_embed.shape[1] == 65
    assert model.neck.decoder_pred.out_features == 4 * 4 * 3 and model.head.patch_size == 4
    sincos = model.neck.decoder_pos_embed[0, 1:]
    assert torch.unique(sincos, dim=0).shape[0] == 64  # one row per position of the 8 x 8 grid


def test_a_bad_warmup_ratio_is_named_as_itself():
    with pytest.raises(ValueError, match=r'warmup_mask_ratio must lie in \[0, 1\), got 1.2'):
        MODELS.build(dict(type='FAMTMaskGenerator', warmup_mask_ratio=1.2))


@pytest.mark.slow
def test_a_scoring_pipeline_with_a_random_crop_is_refused(tmp_path):
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=1)
    cfg.custom_hooks[0].pipeline = [
        dict(type='Resize', scale=(16, 16)),
        dict(type='RandomResizedCrop', scale=16),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackInputs'),
    ]
    _refused_before_the_first_step(
        build_runner(cfg), ValueError, r"random transforms \['RandomResizedCrop', 'RandomFlip'\]"
    )


@pytest.mark.slow
def test_the_log_says_how_many_patches_are_masked_thrown_and_visible(tmp_path):
    runner = build_runner(demo_cfg(tmp_path, max_epochs=2, start_epoch=1, interval=5, num_images=16))
    infos = _logs(runner, 'info')
    runner.train()
    assert any(
        'warm-up (random): 12 masked, 0 thrown, 4 visible of 16 patches; guided: 7 masked, '
        '6 thrown, 3 visible of 16 patches' in i
        for i in infos
    ), infos
    assert any('masking is guided from now on' in i for i in infos)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A 2-epoch run with a refresh before epoch 1: its last checkpoint holds a cache of 32 maps."""
    work_dir = tmp_path_factory.mktemp('famt_first')
    runner = build_runner(demo_cfg(work_dir, max_epochs=2, start_epoch=1, interval=5, num_images=32))
    runner.train()
    path = osp.join(work_dir, 'epoch_2.pth')
    assert CHECKPOINT_KEY in torch.load(path, weights_only=False)
    return path


@pytest.mark.slow
def test_load_from_takes_the_weights_and_scores_afresh(checkpoint, tmp_path):
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=1, interval=5, num_images=32)
    cfg.load_from = checkpoint
    runner = build_runner(cfg)
    infos = _logs(runner, 'info')
    plans = record_plans(runner)
    runner.train()
    assert any('load_from starts a fresh schedule' in i for i in infos)
    assert {(v, t) for e, v, t in plans if e == 0} == {(4, 0)}  # a warm-up again: no old maps
    assert refresh_hook_of(runner).refreshed_epoch == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    'change,match',
    [
        (dict(num_images=48), 'scored on another training set'),
        (dict(shuffle_images=True), 'scored on another training set'),
    ],
    ids=['more-images', 'same-count-other-content'],
)
def test_resume_on_another_training_set_is_refused(checkpoint, tmp_path, change, match):
    cfg = demo_cfg(tmp_path, max_epochs=3, start_epoch=1, interval=5, num_images=change.get('num_images', 32))
    if change.get('shuffle_images'):
        cfg.train_dataloader.dataset.indices = list(range(100, 132))  # 32 other digits
    cfg.load_from, cfg.resume = checkpoint, True
    before = osp.getmtime(checkpoint)
    runner = build_runner(cfg)
    _refused_before_the_first_step(runner, ValueError, match)
    assert osp.getmtime(checkpoint) == before


@pytest.mark.slow
def test_maps_of_weights_that_did_not_load_are_not_used(checkpoint, tmp_path):
    """mmengine loads checkpoints non-strictly: on resume, maps whose weights did not load stay unused."""
    runner = build_runner(demo_cfg(tmp_path, max_epochs=3, start_epoch=1, interval=5, num_images=32))
    runner._resume = True  # as Runner.load_or_resume sets it for --resume
    warnings = _logs(runner, 'warning')
    saved = torch.load(checkpoint, weights_only=False)
    hook = refresh_hook_of(runner)
    partial = dict(saved, state_dict={k: v for k, v in saved['state_dict'].items() if 'layers.1.' not in k})
    hook.after_load_checkpoint(runner, partial)
    cache = runner.model.data_preprocessor.importance_cache
    assert not cache.ready
    assert any('does not hold' in w and 'its importance maps are not used' in w for w in warnings)
    hook.after_load_checkpoint(runner, saved)  # the whole checkpoint: restored
    assert cache.ready and len(cache) == 32


@pytest.mark.slow
def test_a_repeated_dataset_keeps_one_map_per_image(tmp_path):
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=1, interval=5, num_images=16)
    cfg.train_dataloader.dataset = dict(type='RepeatDataset', times=3, dataset=cfg.train_dataloader.dataset)
    runner = build_runner(cfg)
    plans = record_plans(runner)
    runner.train()
    assert runner.model.data_preprocessor.importance_cache.maps.shape == (16, 4, 4)
    assert {(v, t) for e, v, t in plans if e == 1} == {(3, 6)}


@pytest.mark.slow
def test_a_concatenated_dataset_is_refused_naming_the_alternative(tmp_path):
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=1, num_images=16)
    part = cfg.train_dataloader.dataset
    cfg.train_dataloader.dataset = dict(type='ConcatDataset', datasets=[part, part])
    _refused_before_the_first_step(
        build_runner(cfg),
        TypeError,
        'ConcatDataset carry the sample_idx of their own dataset.*merge the parts',
    )


def test_the_base_configs_resume_makes_load_from_resume():
    """What docs/own_small_run.md tells: mmpretrain's MAE configs set resume = True."""
    from famt_mm.utils.configs import find_config

    cfg = Config.fromfile(find_config('famt/pretrain/famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'))
    small = Config.fromfile(find_config('famt/examples/famt-mae_vit-mini-p8_1xb32-20e_folder.py'))
    assert cfg.resume is True and small.resume is False
