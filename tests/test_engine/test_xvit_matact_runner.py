"""Short mmengine Runner trainings across a refresh of the digits demo's X-ViT and matrix-activation
configs (their model change on the tiny test model): the refresh scores, guided masking and throwing
follow, and the new weights train."""

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from famt_benchmarks.accuracy_for_time import MATACT_DEMO_CONFIG, XVIT_DEMO_CONFIG
from famt_mm.engine import FAMTRefreshHook
from famt_mm.models import FAMTMatrixActivation, FAMTXNormAttention
from famt_mm.testing import demo_cfg
from famt_mm.utils.configs import find_config

pytestmark = pytest.mark.slow


def _train(work_dir, backbone_change):
    cfg = demo_cfg(work_dir, max_epochs=3, start_epoch=1, interval=2)
    cfg.model.backbone.update(backbone_change)
    runner = Runner.from_cfg(cfg)
    preprocessor = runner.model.data_preprocessor
    seen, original = [], preprocessor.sample_mask_plan

    def recording(inputs, data_samples):
        plan = original(inputs, data_samples)
        seen.append((runner.epoch, plan.visible.shape[1], plan.thrown.shape[1]))
        return plan

    preprocessor.sample_mask_plan = recording
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, FAMTRefreshHook))
    assert hook.refreshed_epoch == 1
    assert torch.isfinite(preprocessor.importance_cache.maps.float()).all()
    assert {(v, t) for e, v, t in seen if e >= 1} == {(3, 6)}  # guided: 7 masked, 6 thrown, 3 visible
    return runner


def test_xvit_demo_trains_across_a_refresh(tmp_path):
    own = Config.fromfile(find_config(XVIT_DEMO_CONFIG)).model.backbone
    runner = _train(tmp_path, dict(type=own.type))
    backbone = runner.model.backbone
    assert type(backbone).__name__ == 'FAMTMAEXViT'
    scales = [layer.attn.xnorm_scale for layer in backbone.layers]
    assert all(isinstance(layer.attn, FAMTXNormAttention) for layer in backbone.layers)
    assert any(not torch.allclose(s, torch.ones_like(s)) for s in scales)  # trained from 1


def test_matrix_activation_demo_trains_across_a_refresh(tmp_path):
    own = Config.fromfile(find_config(MATACT_DEMO_CONFIG)).model.backbone
    runner = _train(tmp_path, dict(layer_cfgs=own.layer_cfgs.to_dict()))
    acts = [m for m in runner.model.backbone.modules() if isinstance(m, FAMTMatrixActivation)]
    assert len(acts) == len(runner.model.backbone.layers)
    assert acts[0].knots.tolist() == [-1.0, 0.0, 1.0]
    start = torch.tensor([0.0, 0.0, 1.0, 1.0])  # ReLU
    assert any(not torch.allclose(a.levels[0, 0], start) for a in acts)
