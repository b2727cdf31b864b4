"""The accuracy-for-time tool on the cluttered benchmark: options, variants, paired differences."""

import json
import os.path as osp

import pytest
from mmengine.config import Config

from famt_benchmarks.accuracy_for_time import (
    CLUTTERED_CONFIG,
    VARIANT_GROUPS,
    VARIANTS,
    apply_variant,
    cluttered_datasets,
    generator_cfg,
    paired_differences,
    set_cluttered,
    set_epochs,
    set_refresh,
    summarise,
)
from famt_mm.testing import DEMO_CONFIG, load_script
from famt_mm.utils.configs import find_config

XVIT_CLUTTERED = 'famt/pretrain/famt-mae_xvit-tiny-p8_1xb256-20e_cluttered-digits.py'
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
tool = load_script(osp.join(ROOT, 'tools', 'demo_accuracy_for_time.py'), 'famt_tool_aft_cluttered')


def test_benchmark_option_picks_the_cluttered_config_and_its_settings():
    args = tool.parse_args(
        [
            '--benchmark',
            'cluttered',
            '--variants',
            'calibration',
            '--clutter',
            'none',
            '--renders',
            '2',
            '--labels-per-class',
            '50',
            '--finetune-epochs',
            '5',
        ]
    )
    assert args.config == CLUTTERED_CONFIG
    assert args.names == ['untrained', 'mae', 'oracle-throw']
    assert tool.parse_args([]).config == DEMO_CONFIG


def test_config_option_trains_another_cluttered_config_with_the_benchmark_settings():
    args = tool.parse_args(['--config', XVIT_CLUTTERED, '--clutter', 'none', '--labels-per-class', '20'])
    assert args.config == XVIT_CLUTTERED
    cfg = Config.fromfile(find_config(XVIT_CLUTTERED))
    set_cluttered(cfg, 'none', None, 20, None)
    assert cfg.model.backbone.type == 'FAMTMAEXViT'
    assert {d['clutter'] for d in cluttered_datasets(cfg)} == {'none'}


def test_cluttered_group_holds_the_oracles_and_the_random_count_control():
    assert set(VARIANT_GROUPS['cluttered']) >= {
        'mae',
        'amt',
        'famt',
        'famt-nothrow',
        'famt-frequency',
        'famt-lowest',
        'oracle-mask',
        'oracle-throw',
        'random-counts',
    }
    assert VARIANTS['oracle-mask'].oracle and VARIANTS['oracle-throw'].oracle
    assert 'ORACLE' in VARIANTS['oracle-mask'].label and 'ORACLE' in VARIANTS['oracle-throw'].label
    assert not VARIANTS['untrained'].pretrain


@pytest.mark.parametrize(
    'argv,message',
    [
        (['--clutter', 'photo'], 'need --benchmark cluttered'),
        (['--benchmark', 'cluttered', '--renders', '0'], '--renders must be >= 1, got 0'),
        (['--benchmark', 'cluttered', '--renders', '65'], '--renders must be in [1, 64], got 65'),
        (['--benchmark', 'cluttered', '--labels-per-class', '401'], '--labels-per-class must be in [1, 400]'),
        (['--benchmark', 'cluttered', '--finetune-epochs', '-1'], '--finetune-epochs must be >= 0'),
        (['--benchmark', 'cluttered', '--clutter', 'snow'], "invalid choice: 'snow'"),
        (['--config', 'nope.py'], "--config: no config 'nope.py'"),
        (
            ['--config', 'famt/pretrain/famt-mae_xvit-tiny-p4_1xb64-60e_digits.py', '--clutter', 'none'],
            'this config has no FAMTClutteredDigits dataset',
        ),
        (['--benchmark', 'cluttered', '--config', XVIT_CLUTTERED], 'give --benchmark or --config, not both'),
    ],
)
def test_bad_cluttered_options_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(argv)
    assert message in capsys.readouterr().err


def test_oracle_takes_the_refresh_hooks_place_and_schedule():
    cfg = Config.fromfile(find_config(CLUTTERED_CONFIG))
    apply_variant(cfg, VARIANTS['oracle-throw'])
    set_refresh(cfg, 3, 2)
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert 'FAMTRefreshHook' not in hooks
    assert hooks['FAMTObjectOracleHook'] == dict(type='FAMTObjectOracleHook', start_epoch=3, interval=2)
    assert generator_cfg(cfg)['mask_generator']['throw_mode'] == 'lowest'


def test_set_cluttered_reaches_every_dataset_and_the_fine_tune():
    cfg = Config.fromfile(find_config(CLUTTERED_CONFIG))
    set_cluttered(cfg, clutter='fragments', renders=3, labels_per_class=10, finetune_epochs=7)
    datasets = cluttered_datasets(cfg)
    assert len(datasets) == 3 and {d['clutter'] for d in datasets} == {'fragments'}
    assert [d.get('renders') for d in datasets if d['split'] == 'pretrain'] == [3]
    assert [d.get('labels_per_class') for d in datasets if d['split'] == 'train'] == [10]
    assert [h['finetune_epochs'] for h in cfg.custom_hooks if h['type'] == 'FAMTFewLabelEvalHook'] == [7]
    with pytest.raises(ValueError, match='no FAMTClutteredDigits dataset'):
        set_cluttered(Config.fromfile(find_config(DEMO_CONFIG)), clutter='photo')
    set_epochs(cfg, 0)  # the untrained encoder: no epoch, no scheduler
    assert cfg.train_cfg.max_epochs == 0 and cfg.param_scheduler == []


def test_paired_differences_pair_by_seed():
    runs = [
        dict(variant='famt', method='F', seed=0, top1=50.0, pretrain_s=1, epochs=2),
        dict(variant='famt', method='F', seed=1, top1=40.0, pretrain_s=1, epochs=2),
        dict(variant='mae', method='M', seed=0, top1=53.0, pretrain_s=1, epochs=2),
        dict(variant='mae', method='M', seed=1, top1=41.0, pretrain_s=1, epochs=2),
    ]
    diffs = paired_differences(runs, 'famt')
    assert diffs['mae']['diffs'] == [3.0, 1.0]
    assert diffs['mae']['mean'] == pytest.approx(2.0)
    assert diffs['mae']['se'] == pytest.approx(1.0)  # stdev of (3, 1) = sqrt(2), / sqrt(2)
    summary = summarise(runs)
    assert summary['F']['init_top1'] is None and summary['M']['top1']['mean'] == pytest.approx(47.0)


def _evaluated_run(variant, seed, finetune, epochs=20, **settings):
    return dict(
        variant=variant,
        method=variant.upper(),
        seed=seed,
        top1=finetune,
        pretrain_s=10.0,
        epochs=epochs,
        clutter='none',
        num_labelled=200,
        num_test=1000,
        metrics=dict(finetune_top1=finetune, probe_cls_top1=20.0, probe_mean_top1=20.0, knn_top1=10.0),
        **settings,
    )


def _write_output(path, runs, as_partial=False):
    with open(path, 'w') as f:
        json.dump(
            runs if as_partial else dict(command='python tools/demo_accuracy_for_time.py', runs=runs), f
        )
    return str(path)


def test_merge_joins_side_by_side_outputs_and_pairs_them_by_seed(tmp_path, capsys):
    first = _write_output(
        tmp_path / 'a.json',
        [
            _evaluated_run('mae', 0, 30.0),
            _evaluated_run('famt', 0, 35.0),
            _evaluated_run('untrained', 0, 18.0, 0),
            _evaluated_run('oracle-throw', 0, 33.0),
        ],
    )
    second = _write_output(
        tmp_path / 'b.json.partial',
        [
            _evaluated_run('mae', 1, 40.0),
            _evaluated_run('famt', 1, 41.0),
            _evaluated_run('untrained', 1, 19.0, 0),
        ],
        as_partial=True,
    )
    out = tmp_path / 'merged.json'
    result = tool.main(['--merge', first, second, '--out', str(out)])
    assert json.loads(out.read_text()) == result
    assert [s['file'] for s in result['merged_from']] == [first, second]
    assert len(result['runs']) == 7
    # one pair: no standard error, and the JSON stays standard (no NaN)
    assert result['differences_vs_famt']['finetune_top1']['oracle-throw'] == dict(
        mean=-2.0, se=None, n=1, diffs=[-2.0]
    )
    assert result['differences_vs_famt']['finetune_top1']['mae']['diffs'] == [-5.0, -1.0]
    assert result['differences_vs_mae']['finetune_top1']['famt']['mean'] == pytest.approx(3.0)
    assert result['differences_vs_untrained']['finetune_top1']['mae']['diffs'] == [12.0, 21.0]
    printed = capsys.readouterr().out
    assert 'fine-tune against famt, paired by seed: mae -3.0 ± 2.0 (n=2); ' in printed
    assert '; oracle-throw -2.0 (n=1)\n' in printed


def test_merge_pairs_the_cnn_runs_with_their_own_references(tmp_path):
    """Any untrained encoder (0 epochs) merges beside 20-epoch runs; the CNN pairing has its references."""
    cnn = [
        _evaluated_run('spark-random', 0, 17.0),
        _evaluated_run('spark-famt', 0, 18.0),
        _evaluated_run('spark-untrained', 0, 11.0, 0),
    ]
    for run in cnn:
        del run['metrics']['probe_cls_top1']  # a CNN has no CLS token
    first = _write_output(tmp_path / 'a.json', cnn)
    second = _write_output(tmp_path / 'b.json', [_evaluated_run('spark-untrained', 1, 12.0, 0)])
    result = tool.main(['--merge', first, second, '--out', str(tmp_path / 'merged.json')])
    assert result['differences_vs_spark-untrained']['finetune_top1']['spark-random']['diffs'] == [6.0]
    assert result['differences_vs_spark-random']['finetune_top1']['spark-famt']['diffs'] == [1.0]
    assert result['differences_vs_spark-random']['probe_cls_top1'] == {}
    assert 'differences_vs_famt' not in result
    # merging a merge keeps the original sources
    third = _write_output(tmp_path / 'c.json', [_evaluated_run('spark-random', 1, 16.0)])
    again = tool.main(
        ['--merge', str(tmp_path / 'merged.json'), third, '--out', str(tmp_path / 'again.json')]
    )
    assert [s['file'] for s in again['merged_from']] == [first, second, third]
    assert len(again['runs']) == 5


@pytest.mark.parametrize(
    'second,message',
    [
        ([_evaluated_run('mae', 0, 31.0)], "variant 'mae' with seed 0 is in more than one run"),
        ([_evaluated_run('mae', 1, 31.0, epochs=10)], "the runs differ in 'epochs' (10, 20)"),
        (
            [dict(_evaluated_run('mae', 1, 31.0), clutter='photo')],
            "the runs differ in 'clutter' (none, photo)",
        ),
    ],
)
def test_merge_refuses_repeated_runs_and_mixed_protocols(tmp_path, second, message):
    first = _write_output(tmp_path / 'a.json', [_evaluated_run('mae', 0, 30.0)])
    other = _write_output(tmp_path / 'b.json', second)
    with pytest.raises(SystemExit) as error:
        tool.main(['--merge', first, other, '--out', str(tmp_path / 'merged.json')])
    assert message in str(error.value)
    assert not (tmp_path / 'merged.json').exists()


@pytest.mark.parametrize(
    'argv,message',
    [
        (['--merge', 'a.json'], '--merge needs --out'),
        (['--merge', 'no/such.json', '--out', 'm.json'], '--merge: no such file: no/such.json'),
    ],
)
def test_merge_options_are_checked(argv, message, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(argv)
    assert message in capsys.readouterr().err


visualize = load_script(osp.join(ROOT, 'tools', 'visualize.py'), 'famt_tool_visualize_cluttered')


@pytest.mark.parametrize(
    'argv,message',
    [
        (['CFG', '--digits', '0', '--capture', '10'], '--clutter and --capture need --cluttered'),
        (['CFG', '--digits', '0', '--clutter', 'photo'], '--clutter and --capture need --cluttered'),
        (['CFG', '--cluttered', '0', '--capture', '0'], '--capture must be >= 1 images, got 0'),
    ],
)
def test_visualize_refuses_cluttered_options_without_their_source(argv, message, capsys):
    with pytest.raises(SystemExit):
        visualize.parse_args(argv)
    assert message in capsys.readouterr().err
