"""The CUDA tests' code on a CPU under bf16 autocast (mmengine's AmpOptimWrapper, which on a CPU
autocasts to bf16): one AMP step and scoring pass of a tiny model of every algorithm, the fused AdamW
kernel, the Runner checks on a tiny ViT, the peak-memory helper, and the rank correlation."""

import pytest
import torch
from amp_checks import (
    ALGORITHMS,
    amp_step_and_score,
    check_amp_step,
    check_no_recompilation,
    check_resume,
    check_run,
    fused_adamw_ops,
    run_across_refresh,
    spearman_per_image,
    step_peak_memory,
    vitb_runner_cfg,
)

from famt_benchmarks.images import make_image_folder
from famt_benchmarks.measure import compile_counts
from famt_mm.engine.optim_constructor import fused_is_supported


@pytest.fixture(autouse=True)
def amp_on_cpu(monkeypatch):
    # mmengine's AmpOptimWrapper refuses to start without a GPU; on a CPU it autocasts to bf16
    # (mmengine's autocast) and its loss scaler disables itself, which bf16 does not need
    from mmengine.optim.optimizer import amp_optimizer_wrapper

    if not torch.cuda.is_available():
        monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)


@pytest.mark.parametrize('algorithm', ALGORITHMS, ids=[a.name for a in ALGORITHMS])
def test_one_bf16_amp_step_and_scoring_pass_on_cpu(algorithm):
    check_amp_step(amp_step_and_score(algorithm, 'cpu', 'bfloat16'), 'cpu', torch.bfloat16)


@pytest.mark.skipif(
    not fused_is_supported(torch.optim.AdamW, [torch.zeros(1)]),
    reason=f'torch {torch.__version__} has no fused AdamW for CPU parameters',
)
def test_the_configs_fused_adamw_runs_its_fused_kernel_on_cpu():
    assert 'aten::_fused_adamw_' in fused_adamw_ops('cpu')


def test_spearman_per_image_ranks_ties_by_their_mean_rank():
    a = torch.tensor([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 2.0, 3.0]])
    b = torch.tensor([[10.0, 20.0, 30.0, 40.0], [4.0, 3.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0]])
    rho = spearman_per_image(a, b)
    # ties share rank 0.5: ranks (0.5, 0.5, 2, 3) against (0, 1, 2, 3)
    assert torch.allclose(rho, torch.tensor([1.0, -1.0, 0.9486832980505138], dtype=torch.float64))


@pytest.mark.slow
def test_tiny_peak_memory_helper_measures_both_methods():
    memory = step_peak_memory('deit-tiny', 64, 2, 'cpu', amp=False)
    assert len(memory) == 2 and all(m['peak_bytes'] > 0 for m in memory.values())


def _folder(tmp_path) -> str:
    folder = str(tmp_path / 'images')
    make_image_folder(folder, 16, seed=0, min_side=96, max_side=160)
    return folder


@pytest.mark.slow
def test_tiny_vit_through_the_entry_config_across_the_refresh_and_resume(tmp_path):
    folder = _folder(tmp_path)
    cfg = vitb_runner_cfg(
        str(tmp_path / 'run'),
        folder,
        'bf16',
        batch_size=8,
        amp_dtype='bfloat16',
        arch='deit-tiny',
        img_size=96,
        workers=0,
    )
    runner, steps, scoring = run_across_refresh(cfg)
    check_run(runner, steps, scoring, num_images=16, batch_size=8, cast_dtype=torch.bfloat16)
    resumed = vitb_runner_cfg(
        str(tmp_path / 'resumed'),
        folder,
        'bf16',
        batch_size=8,
        amp_dtype='bfloat16',
        arch='deit-tiny',
        img_size=96,
        workers=0,
        save_checkpoints=False,
    )
    check_resume(resumed, f'{cfg.work_dir}/epoch_2.pth', 'cpu', max_epochs=3)


@pytest.mark.slow
def test_tiny_vit_through_the_entry_config_compiled_does_not_recompile(tmp_path):
    torch._dynamo.reset()
    cfg = vitb_runner_cfg(
        str(tmp_path / 'run'),
        _folder(tmp_path),
        'bf16_compiled',
        batch_size=4,
        amp_dtype='bfloat16',
        compile=True,
        arch='deit-tiny',
        img_size=96,
        workers=0,
        save_checkpoints=False,
    )
    runner, steps, scoring = run_across_refresh(cfg, compile_counts)
    check_run(runner, steps, scoring, num_images=16, batch_size=4, cast_dtype=torch.bfloat16)
    check_no_recompilation(steps)
