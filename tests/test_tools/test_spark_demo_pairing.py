"""The CNN pairing of tools/demo_accuracy_for_time.py (``--variants spark``): SparK on the digits
demo's tiny sparse ConvNeXt, FAMT's frequency-only masking against random masking, a short run."""

import os.path as osp

import pytest

from famt_benchmarks.accuracy_for_time import SPARK_DEMO_CONFIG, VARIANT_GROUPS, VARIANTS
from famt_mm.checkpoint import load_mmengine_checkpoint
from famt_mm.engine import CHECKPOINT_KEY
from famt_mm.testing import load_script

pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout

tool = load_script(osp.join(ROOT, 'tools', 'demo_accuracy_for_time.py'), 'famt_tool_aft_spark')


def test_the_spark_group_pairs_famt_with_random_masking_on_its_own_config():
    assert VARIANT_GROUPS['spark'] == ['spark-random', 'spark-famt']
    assert {VARIANTS[name].config for name in VARIANT_GROUPS['spark']} == {SPARK_DEMO_CONFIG}
    assert tool.parse_args(['--variants', 'spark']).names == ['spark-random', 'spark-famt']


def test_short_run_of_the_spark_pairing(tmp_path):
    runs_dir = tmp_path / 'runs'
    result = tool.main(
        [
            '--variants',
            'spark',
            '--seeds',
            '0',
            '--epochs',
            '2',
            '--refresh-start',
            '1',
            '--refresh-interval',
            '1',
            '--train-images',
            '32',
            '--work-dir',
            str(runs_dir),
            '--out',
            str(tmp_path / 'spark.json'),
        ]
    )
    runs = result['runs']
    assert [(r['variant'], r['seed']) for r in runs] == [('spark-random', 0), ('spark-famt', 0)]
    assert [r['generator'].split('(')[0] for r in runs] == ['FAMTRandomMaskGenerator', 'FAMTMaskGenerator']
    assert "weight_source='frequency'" in runs[1]['generator']
    assert runs[0]['refresh'] is None and runs[1]['refresh'] == dict(start_epoch=1, interval=1)
    for run in runs:
        assert run['epochs'] == 2 and run['num_test'] == 359
        assert 0 <= run['top1'] <= 100 and run['pretrain_s'] > 0
    assert {v['config'] for v in result['variants'].values()} == {SPARK_DEMO_CONFIG}
    for name, refreshed in (('spark-famt', True), ('spark-random', False)):
        ckpt = load_mmengine_checkpoint(osp.join(str(runs_dir), f'{name}_seed0', 'epoch_2.pth'))
        assert 'backbone.stages.2.1.depthwise_conv.weight' in ckpt['state_dict']  # the ConvNeXt
        assert (CHECKPOINT_KEY in ckpt) == refreshed
    famt = load_mmengine_checkpoint(osp.join(str(runs_dir), 'spark-famt_seed0', 'epoch_2.pth'))
    assert famt[CHECKPOINT_KEY]['maps'].shape[1:] == (4, 4)  # one weight per 8-px unit
