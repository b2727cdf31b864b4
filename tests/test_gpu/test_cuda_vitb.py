"""On a CUDA device: the ViT-B/16 ImageNet-1K FAMT-MAE entry-point config (configs/famt/
mae_vitb_in1k.py) trained through mmengine's Runner on a generated folder of 64 JPEGs, across a
refresh, with its AmpOptimWrapper: fp16 with a dynamic loss scale, then bf16 with compile=True.

Checked: finite losses and loss scale, warm-up then guided plans; the refresh under autocast gives
finite maps ranking each image's patches as an fp32 scoring of the same images does (Spearman >= 0.99
per image); the cache is kept on the CPU in fp16; a checkpoint saved on CUDA resumes with the cache;
compiled, new batches do not compile anything again. The CPU counterparts (tests/test_gpu/
test_amp_on_cpu.py) run the same checks on a tiny ViT under bf16.
"""

import os.path as osp
import shutil

import pytest
import torch
from amp_checks import check_no_recompilation, check_resume, check_run, run_across_refresh, vitb_runner_cfg

from famt_benchmarks.images import make_image_folder
from famt_benchmarks.measure import compile_counts

pytestmark = pytest.mark.gpu

NUM_IMAGES = 64


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('vitb_images'))
    make_image_folder(root, NUM_IMAGES, seed=0)
    return root


@pytest.fixture(scope='module')
def fp16_run(folder, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('vitb_fp16'))
    cfg = vitb_runner_cfg(work, folder, 'fp16', batch_size=32, amp_dtype='float16')
    runner, steps, scoring = run_across_refresh(cfg)
    return dict(runner=runner, steps=steps, scoring=scoring, cfg=cfg, folder=folder)


def test_fp16_amp_training_across_the_refresh(fp16_run, capsys):
    figures = check_run(
        fp16_run['runner'],
        fp16_run['steps'],
        fp16_run['scoring'],
        num_images=NUM_IMAGES,
        batch_size=32,
        cast_dtype=torch.float16,
    )
    with capsys.disabled():
        print(
            f'\nViT-B/16 fp16 AMP: losses {figures["losses"].tolist()}; refresh vs fp32 scoring, '
            f'Spearman per image: min {figures["spearman"].min():.4f}, '
            f'median {figures["spearman"].median():.4f}'
        )
    assert {p.device.type for p in fp16_run['runner'].model.parameters()} == {'cuda'}


def test_a_checkpoint_saved_on_cuda_resumes_with_the_cache(fp16_run, tmp_path):
    checkpoint = osp.join(fp16_run['cfg'].work_dir, 'epoch_2.pth')  # after the refresh's epoch
    cfg = vitb_runner_cfg(
        str(tmp_path),
        fp16_run['folder'],
        'resumed',
        batch_size=32,
        amp_dtype='float16',
        save_checkpoints=False,
    )
    check_resume(cfg, checkpoint, 'cuda', max_epochs=3)


@pytest.mark.skipif(
    not any(shutil.which(c) for c in ('cc', 'gcc', 'clang')),
    reason="torch.compile's inductor builds with a C compiler: no cc, gcc or clang on PATH",
)
def test_bf16_amp_compiled_training_across_the_refresh_does_not_recompile(folder, tmp_path):
    torch._dynamo.reset()
    cfg = vitb_runner_cfg(
        str(tmp_path),
        folder,
        'bf16_compiled',
        batch_size=16,
        amp_dtype='bfloat16',
        compile=True,
        save_checkpoints=False,
    )
    runner, steps, scoring = run_across_refresh(cfg, compile_counts)
    check_run(runner, steps, scoring, num_images=NUM_IMAGES, batch_size=16, cast_dtype=torch.bfloat16)
    check_no_recompilation(steps)
