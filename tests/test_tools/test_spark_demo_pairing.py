"""The CNN pairing of tools/demo_accuracy_for_time.py (``--variants spark``): SparK on a tiny sparse
ConvNeXt, FAMT's frequency-only masking against random masking, short runs on the digits demo and on
the cluttered benchmark."""

import json
import os.path as osp

import pytest

from famt_benchmarks.accuracy_for_time import (
    SPARK_CLUTTERED_CONFIG,
    SPARK_DEMO_CONFIG,
    VARIANT_GROUPS,
    VARIANTS,
    variant_config,
)
from famt_mm.checkpoint import load_mmengine_checkpoint
from famt_mm.engine import CHECKPOINT_KEY
from famt_mm.testing import load_script

pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout

tool = load_script(osp.join(ROOT, 'tools', 'demo_accuracy_for_time.py'), 'famt_tool_aft_spark')


def test_the_spark_group_pairs_famt_with_random_masking_on_its_own_config():
    assert VARIANT_GROUPS['spark'] == ['spark-random', 'spark-famt']
    for name in VARIANT_GROUPS['spark'] + ['spark-untrained']:
        assert variant_config(VARIANTS[name], 'digits', 'unused.py') == SPARK_DEMO_CONFIG
        assert variant_config(VARIANTS[name], 'cluttered', 'unused.py') == SPARK_CLUTTERED_CONFIG
    assert tool.parse_args(['--variants', 'spark']).names == ['spark-random', 'spark-famt']
    args = tool.parse_args(['--benchmark', 'cluttered', '--variants', 'spark', 'spark-untrained'])
    assert args.names == ['spark-random', 'spark-famt', 'spark-untrained']


def test_spark_variants_refuse_a_config_of_another_benchmark(capsys):
    cluttered_vit = 'famt/pretrain/famt-mae_vit-tiny-p8_1xb256-20e_cluttered-digits.py'
    with pytest.raises(SystemExit):
        tool.parse_args(['--config', cluttered_vit, '--variants', 'spark'])
    err = capsys.readouterr().err
    assert "variant 'spark-random'" in err and '--benchmark (digits, cluttered)' in err


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


def test_short_run_of_the_spark_pairing_on_the_cluttered_benchmark(tmp_path):
    """The CNN through the few-label evaluation: the fine-tune and probe read the mean-pooled map."""
    argv = ['--benchmark', 'cluttered', '--clutter', 'none', '--renders', '1', '--train-images', '64']
    argv += ['--epochs', '2', '--refresh-start', '1', '--refresh-interval', '1', '--labels-per-class', '2']
    argv += ['--finetune-epochs', '1', '--variants', 'spark', 'spark-untrained', '--seeds', '0']
    result = tool.main(argv + ['--work-dir', str(tmp_path / 'runs'), '--out', str(tmp_path / 'spark.json')])
    runs = {r['variant']: r for r in result['runs']}
    assert set(runs) == {'spark-random', 'spark-famt', 'spark-untrained'}
    assert {v['config'] for v in result['variants'].values()} == {SPARK_CLUTTERED_CONFIG}
    for name, run in runs.items():
        # a CNN has no CLS token: no CLS probe; the fine-tune is the main figure
        assert set(run['metrics']) == {'finetune_top1', 'probe_mean_top1', 'knn_top1'}
        assert run['top1'] == run['metrics']['finetune_top1'] and 0 <= run['top1'] <= 100
        assert run['num_labelled'] == 20 and run['clutter'] == 'none'
        assert (run['pretrain_s'] > 0) == (name != 'spark-untrained')
    assert runs['spark-untrained']['epochs'] == 0
    # the frequency maps of the one refresh are measured against the digit masks (6 x 6 units)
    maps = runs['spark-famt']['capture']['maps']
    assert [m['epoch'] for m in maps] == [1] and 0.0 <= maps[0]['auc'] <= 1.0
    with open(tmp_path / 'spark.json') as f:
        assert json.load(f)['runs'] == json.loads(json.dumps(result['runs']))
