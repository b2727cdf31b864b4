"""A tiny Runner training of FAMT-SparK on a sparse ConvNeXt across a refresh: maps scored from the
CNN, every step's active map is the plan's, and the linear probe reads the CNN's feature maps."""

import pytest
import torch
from mmengine.runner import Runner
from mmpretrain.models.utils.sparse_modules import SparseHelper

from famt_mm.engine import FAMTLinearProbeHook
from famt_mm.testing import demo_cfg, tiny_spark_convnext_cfg, whole_image_pipeline
from famt_mm.testing.runs import record_plans, refresh_hook_of

pytestmark = pytest.mark.slow


def _probe_loader(cfg, split: str, num_images: int) -> dict:
    return dict(
        batch_size=16,
        num_workers=0,
        collate_fn=dict(type='default_collate'),
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='SklearnDigits', split=split, indices=num_images, pipeline=whole_image_pipeline(128)
        ),
    )


def test_spark_convnext_training_crosses_a_refresh_with_the_plan_as_active_map(tmp_path):
    cfg = demo_cfg(tmp_path, max_epochs=3, start_epoch=1, interval=2, num_images=16, img_size=128)
    cfg.model = tiny_spark_convnext_cfg()
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=3)
    cfg.custom_hooks.append(
        dict(
            type='FAMTLinearProbeHook',
            train_dataloader=_probe_loader(cfg, 'train', 40),
            test_dataloader=_probe_loader(cfg, 'test', 20),
        )
    )
    runner = Runner.from_cfg(cfg)
    plans = record_plans(runner)
    model = runner.model
    steps = []  # (epoch, the plan's visible units, the backbone's active map) of every step
    original_loss = model.loss

    def recording_loss(inputs, data_samples, mask_plan):
        visible = torch.zeros(inputs.shape[0], 16, dtype=torch.bool)
        steps.append((runner.epoch, visible.scatter_(1, mask_plan.visible, True), []))
        return original_loss(inputs, data_samples, mask_plan=mask_plan)

    model.loss = recording_loss
    model.backbone.register_forward_pre_hook(
        lambda m, args: (
            steps[-1][2].append(SparseHelper._cur_active.clone().reshape(-1, 16)) if model.training else None
        )
    )
    runner.train()

    assert refresh_hook_of(runner).refreshed_epoch == 1
    maps = model.data_preprocessor.importance_cache.maps
    assert maps.shape == (16, 4, 4)  # one weight per 32-px unit: the last stage's 4 x 4 map
    assert maps.float().std() > 0  # frequency weights of the ConvNeXt, not uniform
    assert {(v, t) for e, v, t in plans} == {(7, 0)}  # 16 units: 9 masked, none thrown
    assert {e for e, _, _ in steps} == {0, 1, 2}
    for _, visible, active in steps:
        assert len(active) == 1 and torch.equal(active[0], visible)
    probe = next(h for h in runner.hooks if isinstance(h, FAMTLinearProbeHook))
    assert probe.results['num_test'] == 20 and 0 <= probe.results['top1'] <= 100
