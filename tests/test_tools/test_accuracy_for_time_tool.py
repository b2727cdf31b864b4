"""tools/demo_accuracy_for_time.py: the methods' configs, the schedule change, a short run."""

import json
import os.path as osp

import pytest
from mmengine.config import Config

from famt_benchmarks.accuracy_for_time import VARIANTS, famt_mae, plain_mae, set_epochs
from famt_mm.checkpoint import load_mmengine_checkpoint
from famt_mm.engine import CHECKPOINT_KEY
from famt_mm.testing import DEMO_CONFIG, load_script
from famt_mm.utils.configs import find_config

pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout

tool = load_script(osp.join(ROOT, 'tools', 'demo_accuracy_for_time.py'), 'famt_tool_aft')


def test_plain_mae_is_the_demo_with_random_075_masking_and_no_refresh():
    cfg = Config.fromfile(find_config(DEMO_CONFIG))
    plain_mae(cfg)
    gen = cfg.data_preprocessor.mask_generator
    assert (gen.type, gen.mask_ratio, gen.throw_ratio) == ('FAMTRandomMaskGenerator', 0.75, 0.0)
    assert [h.type for h in cfg.custom_hooks] == ['FAMTLinearProbeHook']
    famt = Config.fromfile(find_config(DEMO_CONFIG))
    famt_mae(famt)
    assert famt.data_preprocessor.mask_generator.type == 'FAMTMaskGenerator'
    # everything else is the same config
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'train_dataloader'):
        assert cfg[key] == famt[key], key


@pytest.mark.parametrize(
    'epochs,expected',
    [
        (100, [('LinearLR', 0, 5, None), ('CosineAnnealingLR', 5, 100, 95)]),
        (3, [('LinearLR', 0, 3, None)]),
    ],
)
def test_schedule_length_change(epochs, expected):
    cfg = Config.fromfile(find_config(DEMO_CONFIG))
    set_epochs(cfg, epochs)
    assert cfg.train_cfg.max_epochs == epochs
    assert [(s.type, s.begin, s.end, s.get('T_max')) for s in cfg.param_scheduler] == expected


def small_probe_config(tmp_path) -> str:
    """The demo, with probes on small subsets and a refresh before epoch 1, so FAMT runs guided."""
    config = tmp_path / 'demo_small_probe.py'
    config.write_text(f"""
_base_ = {find_config(DEMO_CONFIG)!r}
whole_image = [dict(type='Resize', scale=(32, 32), interpolation='bicubic'), dict(type='PackInputs')]
custom_hooks = [
    dict(type='FAMTRefreshHook', start_epoch=1, interval=1, batch_size=64),
    dict(type='FAMTLinearProbeHook',
         train_dataloader=dict(batch_size=64, num_workers=0,
                               collate_fn=dict(type='default_collate'),
                               sampler=dict(type='DefaultSampler', shuffle=False),
                               dataset=dict(type='SklearnDigits', split='train', indices=120,
                                            pipeline=whole_image)),
         test_dataloader=dict(batch_size=64, num_workers=0,
                              collate_fn=dict(type='default_collate'),
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              dataset=dict(type='SklearnDigits', split='test', indices=60,
                                           pipeline=whole_image))),
]
""")
    return str(config)


def test_short_run_reports_both_methods(tmp_path, capsys):
    config = small_probe_config(tmp_path)
    out = tmp_path / 'aft.json'
    result = tool.main(
        [
            '--seeds',
            '0',
            '1',
            '--epochs',
            '2',
            '--train-images',
            '32',
            '--config',
            config,
            '--work-dir',
            str(tmp_path / 'runs'),
            '--out',
            str(out),
        ]
    )
    assert json.loads(out.read_text())['table'] == result['table']
    runs = result['runs']
    # seed by seed, the order flipped every seed
    assert [(r['method'][:4], r['seed']) for r in runs] == [
        ('MAE ', 0),
        ('FAMT', 0),
        ('FAMT', 1),
        ('MAE ', 1),
    ]
    for run in runs:
        assert run['epochs'] == 2 and run['num_test'] == 60
        assert 0 <= run['top1'] <= 100 and run['pretrain_s'] > 0
    summary = result['summary']['FAMT-MAE (0.45 / 0.40)']
    famt_top1 = [r['top1'] for r in runs if r['method'].startswith('FAMT')]
    assert summary['top1']['mean'] == pytest.approx(sum(famt_top1) / 2)
    assert summary['seeds'] == [0, 1]
    for slug, refreshed in (('famt', True), ('mae', False)):  # only FAMT scored and threw
        work_dir = osp.join(str(tmp_path / 'runs'), f'{slug}_seed0')
        assert osp.isfile(osp.join(work_dir, 'linear_probe.json'))
        ckpt = load_mmengine_checkpoint(osp.join(work_dir, 'epoch_2.pth'))
        assert (CHECKPOINT_KEY in ckpt) == refreshed
    table = capsys.readouterr().out
    assert '| MAE (random 0.75) | 2 | 0, 1 |' in table
    assert '| FAMT-MAE (0.45 / 0.40) | 2 | 0, 1 |' in table


def test_short_run_of_two_variants_writes_the_table_and_json(tmp_path, capsys):
    config = small_probe_config(tmp_path)
    out = tmp_path / 'ablation.json'
    argv = [
        '--variants',
        'amt',
        '--variant',
        'low=throw_mode=lowest,sigma_ratio=0.15',
        '--seeds',
        '0',
        '1',
        '--epochs',
        '2',
        '--refresh-start',
        '1',
        '--refresh-interval',
        '1',
        '--train-images',
        '32',
        '--config',
        config,
        '--work-dir',
        str(tmp_path / 'runs'),
        '--out',
        str(out),
    ]
    result = tool.main(argv)
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved) == {'command', 'date', 'machine', 'variants', 'runs', 'summary', 'table'}
    assert saved['command'] == 'python tools/demo_accuracy_for_time.py ' + ' '.join(argv)
    assert {'processor', 'cores', 'torch', 'torch_threads'} <= set(saved['machine'])
    assert saved['variants']['amt'] == dict(
        label=VARIANTS['amt'].label, generator=dict(type='AMTMaskGenerator'), config=config
    )
    assert saved['variants']['low']['generator'] == dict(throw_mode='lowest', sigma_ratio=0.15)
    runs = saved['runs']
    # seed by seed, the order reversed every other seed; one work dir per variant and seed
    assert [(r['variant'], r['seed']) for r in runs] == [('amt', 0), ('low', 0), ('low', 1), ('amt', 1)]
    assert not osp.exists(str(out) + '.partial')
    for run in runs:
        assert run['epochs'] == 2 and run['num_test'] == 60
        assert run['refresh'] == dict(start_epoch=1, interval=1)
        assert osp.basename(run['work_dir']) == f'{run["variant"]}_seed{run["seed"]}'
        assert 0 <= run['top1'] <= 100 and run['pretrain_s'] > 0
    # each run trained with its variant's generator
    assert [r['generator'].split('(')[0] for r in runs[:2]] == ['AMTMaskGenerator', 'FAMTMaskGenerator']
    assert "throw_mode='lowest'" in runs[1]['generator'] and 'sigma_ratio=0.15' in runs[1]['generator']
    low = saved['summary'][runs[1]['method']]
    assert low['seeds'] == [0, 1] and low['top1']['n'] == 2
    assert low['top1']['mean'] == pytest.approx((runs[1]['top1'] + runs[2]['top1']) / 2)
    lines = saved['table'].splitlines()
    assert len(lines) == 2 + 2  # header, rule, one row per variant
    assert lines[2].startswith(f'| {VARIANTS["amt"].label} | 2 | 0, 1 | ')
    assert lines[3].startswith('| low (throw_mode=lowest, sigma_ratio=0.15) | 2 | 0, 1 | ')
    assert saved['table'] in capsys.readouterr().out
