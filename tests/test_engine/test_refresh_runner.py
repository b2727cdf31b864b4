"""Short mmengine Runner trainings of a tiny FAMT-MAE on a few digits: refresh, checkpoints, resume."""

import glob
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from famt_mm.checkpoint import load_mmengine_checkpoint
from famt_mm.engine import CHECKPOINT_KEY, FAMTRefreshHook
from famt_mm.testing import demo_cfg, whole_image_pipeline
from famt_mm.testing.runs import record_plans, refresh_hook_of

pytestmark = [pytest.mark.slow, pytest.mark.classic]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """3 epochs; refresh before epoch 1 (start 1, interval 2); checkpoints every epoch."""
    work_dir = tmp_path_factory.mktemp('famt_run')
    runner = Runner.from_cfg(demo_cfg(work_dir, max_epochs=3, start_epoch=1, interval=2))
    plans = record_plans(runner)
    runner.train()
    return runner, plans, work_dir


def test_training_crosses_the_refresh_into_guided_masking_and_throwing(trained):
    runner, plans, _ = trained
    preprocessor = runner.model.data_preprocessor
    assert preprocessor.importance_cache.maps.shape == (48, 4, 4)
    assert preprocessor.importance_cache.maps.dtype == torch.float16
    assert torch.isfinite(preprocessor.importance_cache.maps.float()).all()
    assert refresh_hook_of(runner).refreshed_epoch == 1
    warm_up = {(v, t) for e, v, t in plans if e == 0}
    guided = {(v, t) for e, v, t in plans if e >= 1}
    assert warm_up == {(4, 0)}  # 16 patches: 12 masked, 4 visible, none thrown
    assert guided == {(3, 6)}  # 0.45 / 0.40 of 16: 7 masked, 6 thrown, 3 visible


def test_checkpoints_carry_the_cache_outside_the_state_dict(trained):
    runner, _, work_dir = trained
    before = load_mmengine_checkpoint(osp.join(work_dir, 'epoch_1.pth'))
    after = load_mmengine_checkpoint(osp.join(work_dir, 'epoch_2.pth'))
    assert CHECKPOINT_KEY not in before  # saved before the refresh of epoch 1
    assert torch.equal(after[CHECKPOINT_KEY]['maps'], runner.model.data_preprocessor.importance_cache.maps)
    assert not any('importance' in k for k in after['state_dict'])


def test_resume_restores_the_cache_without_rescoring(trained, tmp_path):
    _, _, work_dir = trained
    saved = load_mmengine_checkpoint(osp.join(work_dir, 'epoch_2.pth'))
    cfg = demo_cfg(tmp_path, max_epochs=3, start_epoch=1, interval=2)
    cfg.resume, cfg.load_from = True, osp.join(work_dir, 'epoch_2.pth')
    runner = Runner.from_cfg(cfg)
    plans = record_plans(runner)
    refreshes = []
    hook = refresh_hook_of(runner)
    hook.refresh = lambda r: refreshes.append(r.epoch)
    runner.train()
    assert refreshes == []
    assert hook.refreshed_epoch == 1
    assert torch.equal(runner.model.data_preprocessor.importance_cache.maps, saved[CHECKPOINT_KEY]['maps'])
    assert {(e, v, t) for e, v, t in plans} == {(2, 3, 6)}  # guided straight away


def test_resume_past_warm_up_without_a_cache_rescores_before_training(trained, tmp_path):
    _, _, work_dir = trained
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=0, interval=5)
    cfg.resume, cfg.load_from = True, osp.join(work_dir, 'epoch_1.pth')  # no cache in it
    runner = Runner.from_cfg(cfg)
    plans = record_plans(runner)
    runner.train()
    assert refresh_hook_of(runner).refreshed_epoch == 1
    assert {(v, t) for _, v, t in plans} == {(3, 6)}


def test_resume_onto_a_refresh_epoch_without_a_cache_scores_once(trained, tmp_path):
    _, _, work_dir = trained
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=0, interval=1)
    cfg.resume, cfg.load_from = True, osp.join(work_dir, 'epoch_1.pth')  # no cache in it
    runner = Runner.from_cfg(cfg)
    hook, refreshes = refresh_hook_of(runner), []
    original = hook.refresh
    hook.refresh = lambda r: refreshes.append(r.epoch) or original(r)
    runner.train()
    assert refreshes == [1]  # epoch 1 is a refresh epoch: not scored a second time in before_train


def test_a_cache_of_another_dataset_is_refused_on_resume(trained, tmp_path):
    _, _, work_dir = trained
    cfg = demo_cfg(tmp_path, max_epochs=3, num_images=32)
    cfg.resume, cfg.load_from = True, osp.join(work_dir, 'epoch_2.pth')
    with pytest.raises(
        ValueError,
        match=r'cache \(48 maps\) was scored on another training set than this '
        r'one \(32 images.*load_from=CKPT, resume=False',
    ):
        Runner.from_cfg(cfg).train()


def _record_logs(runner, level):
    """Record the messages ``runner.logger`` logs at ``level`` ('info', 'warning')."""
    seen, original = [], getattr(runner.logger, level)

    def recording(msg, *args, **kwargs):
        seen.append(str(msg))
        return original(msg, *args, **kwargs)

    setattr(runner.logger, level, recording)
    return seen


def test_load_from_onto_another_dataset_leaves_the_cache_and_scores_afresh(trained, tmp_path):
    _, _, work_dir = trained
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=1, interval=5, num_images=32)
    cfg.load_from = osp.join(work_dir, 'epoch_2.pth')  # a cache of 48 maps, no resume
    runner = Runner.from_cfg(cfg)
    infos = _record_logs(runner, 'info')
    plans = record_plans(runner)
    runner.train()
    unused = [i for i in infos if "load_from starts a fresh schedule: the checkpoint's 48 importance" in i]
    assert len(unused) == 1
    assert {(v, t) for e, v, t in plans if e == 0} == {(4, 0)}  # warm-up again, not guided
    assert runner.model.data_preprocessor.importance_cache.maps.shape == (32, 4, 4)
    assert refresh_hook_of(runner).refreshed_epoch == 1


def test_a_pipeline_without_crop_box_is_an_error_before_the_first_step(tmp_path):
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=1)
    pipeline = cfg.train_dataloader.dataset.pipeline
    for t in pipeline:
        if t.type == 'FAMTRandomResizedCropWithBox':
            t.type = 'RandomResizedCrop'
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='records no crop_box.*FAMTRandomResizedCropWithBox.*PackFAMTInputs'):
        runner.train()
    assert runner.iter == 0


@pytest.mark.parametrize(
    'change,match',
    [
        (
            dict(start_epoch=3),
            r'start_epoch=3\) is 3 warm-up epochs, not fewer than the schedule\'s 3: '
            'the whole run would mask at random and never refresh',
        ),
        (
            dict(pipeline=whole_image_pipeline(32)),
            'the scoring pipeline gives 32x32 images but the '
            'training views are 16x16.*Resize to the training size '
            r'\(16, 16\)',
        ),
        (dict(pipeline=[dict(type='Resize', scale=(16, 16))]), 'does not pack its output.*PackInputs'),
        (
            dict(pipeline=[dict(type='LoadImageFromFile'), *whole_image_pipeline(16)]),
            r"fails on the first training image \(KeyError: 'img_path'\).*LoadImageFromFile",
        ),
    ],
    ids=['warm-up-past-the-schedule', 'scoring-size', 'no-packer', 'loading-fails'],
)
def test_scoring_mistakes_fail_before_the_first_step(tmp_path, change, match):
    """One real scoring step runs before training: a mistake fails now, naming its cause, not after the
    warm-up."""
    cfg = demo_cfg(tmp_path, max_epochs=3, start_epoch=1, num_images=16)
    cfg.custom_hooks[0].update(change)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match=match):
        runner.train()
    assert runner.iter == 0 and not glob.glob(osp.join(runner.work_dir, '*.pth'))


def test_a_backbone_built_for_another_size_is_refused_before_the_first_step(tmp_path):
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=1, num_images=16)
    cfg.model.backbone.img_size = 32  # the crop gives 16 px
    runner = Runner.from_cfg(cfg)
    with pytest.raises(
        ValueError,
        match=r'the training views are 16x16 px \(4x4 patches\) but FAMTMAEViT '
        r'was built for 32x32 px: set model.backbone.img_size to the '
        "training crop's scale",
    ):
        runner.train()
    assert runner.iter == 0


def test_the_derived_scoring_pipeline_and_epochs_in_the_train_logs_numbering(tmp_path):
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=1, interval=5, num_images=16)
    runner = Runner.from_cfg(cfg)
    infos = _record_logs(runner, 'info')
    runner.train()
    hook = refresh_hook_of(runner)
    # the demo's loading (a resize of the 8x8 digits), a resize to the 16-px view, the packer
    assert [t if isinstance(t, dict) else type(t).__name__ for t in hook.pipeline] == [
        'Resize',
        dict(type='Resize', scale=(16, 16), interpolation='bicubic', backend='cv2'),
        dict(type='PackInputs'),
    ]
    # refreshed when runner.epoch == 1, before the train log's 'Epoch(train) [2]'
    assert hook.refreshed_epoch == 1
    assert any('before epoch 2 (1-based, as the train log)' in i for i in infos), infos


def test_load_from_loads_weights_on_this_torch(trained, tmp_path):
    runner, _, work_dir = trained
    cfg = demo_cfg(tmp_path, max_epochs=1, start_epoch=5)
    cfg.load_from = osp.join(work_dir, 'epoch_3.pth')
    fresh = Runner.from_cfg(cfg)
    fresh.load_or_resume()
    for (name, a), b in zip(fresh.model.state_dict().items(), runner.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_non_finite_scores_fall_back_to_uniform_with_one_warning():
    maps = torch.rand(4, 2, 2)
    maps[2, 0, 0] = float('nan')
    with pytest.warns(UserWarning, match='1 of 4 images had non-finite') as record:
        cache = FAMTRefreshHook._assemble(maps, torch.arange(4), 4)
    assert len(record) == 1
    assert torch.equal(cache[2], torch.ones(2, 2, dtype=torch.float16))
    assert torch.isfinite(cache.float()).all()


def test_a_refresh_that_misses_images_is_an_error():
    with pytest.raises(RuntimeError, match='scored 2 of 4 images'):
        FAMTRefreshHook._assemble(torch.rand(3, 2, 2), torch.tensor([0, 1, 1]), 4)
