"""Short Runner trainings on the cluttered digits: FAMT and the object oracle through a refresh, with
object capture logged and the few-label evaluation written."""

import json
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from famt_benchmarks.accuracy_for_time import CLUTTERED_CONFIG, VARIANTS, apply_variant, set_cluttered
from famt_mm.engine import FAMTFewLabelEvalHook, FAMTObjectCaptureHook
from famt_mm.utils.configs import find_config

pytestmark = pytest.mark.slow


def _tiny_cfg(work_dir, variant: str):
    cfg = Config.fromfile(find_config(CLUTTERED_CONFIG))
    apply_variant(cfg, VARIANTS[variant])
    set_cluttered(cfg, clutter='none', renders=1, labels_per_class=2, finetune_epochs=1)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'cluttered_{variant}_{osp.basename(str(work_dir))}'
    cfg.train_dataloader.dataset.update(indices=64, cache_dir=False)
    cfg.train_dataloader.batch_size = 32
    for hook in cfg.custom_hooks:
        if hook['type'] in ('FAMTRefreshHook', 'FAMTObjectOracleHook'):
            hook.update(start_epoch=1, interval=1)
        if hook['type'] == 'FAMTFewLabelEvalHook':
            hook.train_dataloader.dataset.cache_dir = False
            hook.test_dataloader.dataset.update(indices=50, cache_dir=False)
    cfg.train_cfg.max_epochs = 2
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10)
    cfg.log_level = 'WARNING'
    return cfg


@pytest.mark.parametrize('variant', ['famt', 'oracle-throw'])
def test_a_refresh_logs_object_capture_and_the_evaluation_runs(variant, tmp_path):
    runner = Runner.from_cfg(_tiny_cfg(tmp_path, variant))
    runner.train()
    capture = next(h for h in runner.hooks if isinstance(h, FAMTObjectCaptureHook))
    with open(osp.join(tmp_path, 'object_capture.json')) as f:
        written = json.load(f)
    assert written == json.loads(json.dumps(capture.results()))
    assert [m['epoch'] for m in written['maps']] == [1]  # one refresh, before epoch 2 (1-based)
    assert written['maps'][0]['images'] > 50
    warm_up, guided = written['plans']
    assert warm_up['epochs'] == [1, 1] and guided['epochs'] == [2, 2]
    assert warm_up['thrown'] is None and guided['thrown'] is not None  # throwing starts at the refresh
    if variant == 'oracle-throw':
        assert written['maps'][0]['auc'] == pytest.approx(1.0)  # the true masks rank themselves first
        # the lowest-weight patches are thrown: far fewer digit patches thrown than masked
        assert guided['thrown'] < 0.5 * guided['all'] < guided['masked']
    else:
        assert 0.0 <= written['maps'][0]['auc'] <= 1.0
    few = next(h for h in runner.hooks if isinstance(h, FAMTFewLabelEvalHook))
    assert few.results['num_labelled'] == 20 and few.results['num_test'] == 50
    assert set(few.results) >= {'finetune_top1', 'probe_cls_top1', 'probe_mean_top1', 'knn_top1'}
    assert osp.isfile(osp.join(tmp_path, 'few_label_eval.json'))
