"""On a CUDA device: one AMP step and one scoring pass of a tiny model of every algorithm, the fused
AdamW kernel, and the peak memory of a ViT-B/16 step of FAMT-MAE against MAE.

Device mismatches (a CPU tensor made inside a forward) and ops that autocast would run in fp16 where
they need fp32 (the FFT, min-max normalisation, the Gumbel top-k) fail here; tests/test_gpu/
test_amp_on_cpu.py runs the same code on a CPU under bf16 autocast.
"""

import pytest
import torch
from amp_checks import ALGORITHMS, amp_step_and_score, check_amp_step, fused_adamw_ops, step_peak_memory

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize('algorithm', ALGORITHMS, ids=[a.name for a in ALGORITHMS])
def test_one_fp16_amp_step_and_scoring_pass_on_cuda(algorithm):
    check_amp_step(amp_step_and_score(algorithm, 'cuda', 'float16'), 'cuda', torch.float16)


def test_the_configs_fused_adamw_runs_its_fused_kernel_on_cuda():
    assert 'aten::_fused_adamw_' in fused_adamw_ops('cuda')


def test_famt_mae_step_needs_less_peak_memory_than_mae_at_batch_128(capsys):
    memory = step_peak_memory('b', 224, 128, 'cuda', amp=True)
    (mae, mae_mem), (famt, famt_mem) = memory.items()
    with capsys.disabled():
        print(
            f'\npeak CUDA memory of one AMP step, ViT-B/16, 224 px, batch 128: {mae} '
            f'{mae_mem["peak_bytes"] / 2**20:,.0f} MiB (the step adds '
            f'{mae_mem["step_bytes"] / 2**20:,.0f}), {famt} {famt_mem["peak_bytes"] / 2**20:,.0f} '
            f'MiB (adds {famt_mem["step_bytes"] / 2**20:,.0f}); FAMT / MAE '
            f'{famt_mem["peak_bytes"] / mae_mem["peak_bytes"]:.3f}'
        )
    assert famt_mem['peak_bytes'] < mae_mem['peak_bytes']
