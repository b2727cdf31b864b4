"""A tiny FAMT-MAE trained through mmengine's Runner with ``compile=True`` under bf16 autocast on CPU.

Through the warm-up, the refresh and guided steps: losses and scoring maps stay finite, and the
compiled ``train_step`` is not compiled again step after step (sample indices, crops and flips
change every batch; only the switch from warm-up masking to guided masking and throwing may add
code). The config is used as it is, with its runner (``FAMTRunner``): ``FAMTDataPreprocessor.forward``
and the optimizer step of ``FAMTOptimWrapperConstructor`` run eagerly inside the compiled step
(docs/speed.md, "Compile").
Mechanics only, no timing.
"""

import pytest
import torch
from mmengine.hooks import Hook

from famt_benchmarks.measure import compile_counts

pytestmark = pytest.mark.slow


class _Recorder(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.steps = []  # (epoch, loss, compile counts after the step)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.steps.append((runner.epoch, float(outputs['loss']), compile_counts()))


def _compiled_runner(work_dir, bf16: bool = False):
    import famt_mm  # noqa: F401
    from famt_mm.testing import build_runner, demo_cfg

    torch._dynamo.reset()
    # 3 epochs of 2 batches: warm-up epoch 0, refresh before epoch 1, guided epochs 1 and 2
    cfg = demo_cfg(work_dir, max_epochs=3, start_epoch=1, interval=2, num_images=32)
    cfg.compile = True
    if bf16:  # the configs' AMP path: autocast in each step's forward and in the refresh's scoring
        cfg.optim_wrapper.update(type='AmpOptimWrapper', dtype='bfloat16', loss_scale='dynamic')
    return build_runner(cfg)  # FAMTRunner: the FAMT optimizer constructor


def test_compiled_bf16_training_through_the_refresh_stays_finite_without_recompiling(tmp_path, monkeypatch):
    from mmengine.optim import AmpOptimWrapper
    from mmengine.optim.optimizer import amp_optimizer_wrapper

    # mmengine's AmpOptimWrapper refuses to start without a GPU; on a CPU it autocasts to bf16
    # (mmengine's autocast) and its loss scaler disables itself, which bf16 does not need
    if not torch.cuda.is_available():
        monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)
    runner = _compiled_runner(tmp_path, bf16=True)
    recorder = _Recorder()
    runner.register_hook(recorder)
    runner.train()

    assert isinstance(runner.optim_wrapper, AmpOptimWrapper)
    assert runner.optim_wrapper.cast_dtype == torch.bfloat16

    assert runner.model.train_step is not type(runner.model).train_step  # compiled
    epochs = [epoch for epoch, _, _ in recorder.steps]
    assert epochs == [0, 0, 1, 1, 2, 2]
    losses = torch.tensor([loss for _, loss, _ in recorder.steps])
    assert torch.isfinite(losses).all() and (losses > 0).all()
    maps = runner.model.data_preprocessor.importance_cache.maps
    assert maps is not None and maps.shape == (32, 4, 4) and torch.isfinite(maps.float()).all()

    counts = [c for _, _, c in recorder.steps]
    assert counts[0]['graphs'] > 0
    # new batches reuse the compiled code: nothing is compiled after the first step of the warm-up
    # and after the first guided step
    assert counts[1] == counts[0]
    assert counts[2] == counts[3] == counts[4] == counts[5]
