"""tools/train.py end to end: mmpretrain's CLI with famt_mm registered, then --resume."""

import json
import os.path as osp
import subprocess
import sys

import pytest

from famt_mm.testing import DEMO_CONFIG
from famt_mm.utils.configs import find_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout

pytestmark = pytest.mark.slow


SMALL = [
    'train_dataloader.dataset.indices=64',
    'custom_hooks.0.start_epoch=1',
    'custom_hooks.1.train_dataloader.dataset.indices=64',
    'custom_hooks.1.test_dataloader.dataset.indices=32',
    'default_hooks.checkpoint.interval=1',
    'param_scheduler.0.end=1',
    'param_scheduler.1.begin=1',
    'param_scheduler.1.T_max=2',
]


def _train(work_dir, max_epochs, *extra):
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'),
        find_config(DEMO_CONFIG),
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        f'train_cfg.max_epochs={max_epochs}',
        *SMALL,
        *extra,
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def test_train_cli_refreshes_probes_and_resumes_with_the_cache(tmp_path):
    log = _train(tmp_path, 2)
    assert 'FAMT: refreshed 64 importance maps (8, 8) before epoch 2 (1-based, as the train log)' in log
    probe = json.load(open(tmp_path / 'linear_probe.json'))
    assert probe['epochs'] == 2 and probe['num_test'] == 32 and 0 <= probe['top1'] <= 100
    resumed = _train(tmp_path, 3, 'param_scheduler.1.T_max=3', '--resume')
    assert 'restored 64 importance maps (scored before epoch 2 (1-based, as the train log))' in resumed
    assert 'FAMT: refreshed' not in resumed
    assert osp.exists(tmp_path / 'epoch_3.pth')
