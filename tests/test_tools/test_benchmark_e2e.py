"""tools/benchmark_e2e.py, tools/benchmark_report.py, tools/gpu_benchmark.sh and their library.

Mechanics only: the generated folder, option checks, config set-up, the loader measurement, the
shapes of the JSON and the tables. Speed is reported by running the tools, never asserted.
"""

import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from PIL import Image

from famt_benchmarks.e2e import E2EOptions, loader_figures, prepare_cfg
from famt_benchmarks.images import list_images, make_image_folder
from famt_benchmarks.loader import workers_needed
from famt_benchmarks.report import kit_markdown, merge_results
from famt_benchmarks.step import PAIRS, configure_optim_wrapper
from famt_mm.testing import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout


def _load_tool(name):
    return load_script(osp.join(ROOT, 'tools', f'{name}.py'), f'famt_tool_{name}')


e2e_tool = _load_tool('benchmark_e2e')
step_tool = _load_tool('benchmark')
report_tool = _load_tool('benchmark_report')


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('images'))
    info = make_image_folder(root, 6, num_classes=2, min_side=80, max_side=120)
    return root, info


def test_generated_folder_is_imagenet_style_jpegs_of_several_sizes(folder):
    root, info = folder
    files = list_images(root)
    assert len(files) == 6 == info['num_images']
    assert sorted(os.listdir(root)) == ['class_00', 'class_01']
    sizes = set()
    for path in files:
        with Image.open(path) as img:
            assert img.format == 'JPEG' and img.mode == 'RGB'
            assert 80 <= min(img.size) <= 120
            sizes.add(img.size)
    assert len(sizes) > 1  # random crops and sizes, not one image copied
    assert info['mean_bytes'] > 0 and info['source']
    with pytest.raises(FileExistsError, match='already holds images'):
        make_image_folder(root, 2)
    with pytest.raises(ValueError, match='num_images must be >= 1'):
        make_image_folder(osp.join(root, 'new'), 0)


@pytest.mark.parametrize(
    'tool,argv,match',
    [
        ('benchmark_e2e', ['--refresh-start', '0'], '--refresh-start must be in [1, --epochs - 1]'),
        (
            'benchmark_e2e',
            ['--epochs', '2', '--refresh-start', '2'],
            '--refresh-start must be in [1, --epochs - 1]',
        ),
        ('benchmark_e2e', ['--workers', '-1'], '--workers must be >= 0'),
        ('benchmark_e2e', ['--batch-size', '0'], '--batch-size must be >= 1'),
        ('benchmark_e2e', ['--pairs', 'nope'], '--pairs must name pairs of'),
        ('benchmark_e2e', ['--optimizer', 'sgd'], "invalid choice: 'sgd'"),
        ('benchmark_e2e', ['--arch', 'vit-q'], "--arch must be one of mmpretrain's ViT archs"),
        ('benchmark', ['--iters', '0'], '--iters must be >= 1'),
        ('benchmark', ['--arch', 'vit-q'], "--arch must be one of mmpretrain's ViT archs"),
        ('benchmark', ['--amp', '--device', 'cpu'], '--amp needs --device cuda'),
        ('benchmark', ['--pairs', 'nope'], '--pairs must name pairs of'),
        ('benchmark', ['--device', 'tpu'], '--device'),
        ('benchmark', ['--max-time-ratio', '-1'], '--max-time-ratio must be >= 0'),
        ('benchmark_e2e', ['--max-epoch-ratio', 'x'], '--max-epoch-ratio: invalid float value'),
    ],
)
def test_bad_benchmark_options_are_clear_errors(tool, argv, match, capsys):
    with pytest.raises(SystemExit):
        dict(benchmark=step_tool, benchmark_e2e=e2e_tool)[tool].parse_args(argv)
    assert match in capsys.readouterr().err


def test_e2e_device_amp_and_data_root_checks(tmp_path, capsys):
    import torch

    if not torch.cuda.is_available():
        for argv, match in (
            (['--amp'], '--amp needs a GPU'),
            (['--device', 'cuda'], "mmengine's Runner trains on cpu here"),
        ):
            with pytest.raises(SystemExit):
                e2e_tool.parse_args(argv)
            assert match in capsys.readouterr().err
    with pytest.raises(SystemExit):
        e2e_tool.parse_args(['--data-root', str(tmp_path)])
    assert 'holds no images' in capsys.readouterr().err
    args = e2e_tool.parse_args(['--tiny'])
    assert (args.arch, args.img_size) == ('deit-tiny', 96)


def test_step_tool_compile_needs_a_warmup_step(capsys):
    with pytest.raises(SystemExit):
        step_tool.parse_args(['--compile', '--warmup', '0'])
    assert '--compile needs --warmup >= 1' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        step_tool.parse_args(['--compile', '--profile'])
    assert '--profile cannot be combined with --compile' in capsys.readouterr().err
    args = step_tool.parse_args(['--compile'])
    assert args.compile and args.optimizer == 'fused'


def test_optimizer_implementation_goes_through_the_optimizer_config():
    cfg = dict(
        type='AmpOptimWrapper', loss_scale='dynamic', optimizer=dict(type='AdamW', lr=1e-4, foreach=True)
    )
    out = configure_optim_wrapper(cfg, amp=False, impl='fused')
    assert out['type'] == 'OptimWrapper' and 'loss_scale' not in out
    assert out['optimizer'] == dict(type='AdamW', lr=1e-4, fused=True)
    assert out['constructor'] == 'FAMTOptimWrapperConstructor'  # fused only where torch has it
    out = configure_optim_wrapper(
        dict(optimizer=dict(type='AdamW', fused=True)), amp=True, impl='default'
    )  # torch's own choice, whatever the config asked
    assert out['type'] == 'AmpOptimWrapper' and out['optimizer'] == dict(type='AdamW')
    with pytest.raises(ValueError, match='must be one of'):
        configure_optim_wrapper(dict(optimizer=dict(type='AdamW')), amp=False, impl='sgd')


def test_workers_needed_is_the_ceiling_of_the_rate_ratio():
    assert workers_needed(100.0, 30.0) == 4
    assert workers_needed(60.0, 30.0) == 2
    assert workers_needed(1.0, 30.0) == 1
    with pytest.raises(ValueError, match='worker_images_per_s must be > 0'):
        workers_needed(1.0, 0.0)


def test_prepare_cfg_points_both_configs_at_the_folder_with_one_refresh(folder, tmp_path):
    root, _ = folder
    opts = E2EOptions(
        data_root=root,
        batch_size=4,
        workers=0,
        epochs=3,
        refresh_start=1,
        arch='deit-tiny',
        img_size=64,
        tiny_decoder=True,
        work_dir=str(tmp_path),
    )
    base_cfg, base_schedule = prepare_cfg(PAIRS['mae'][0], opts, 'baseline')
    famt_cfg, schedule = prepare_cfg(PAIRS['mae'][1], opts, 'famt')
    # the config's own schedule is kept for the refresh arithmetic
    assert schedule == dict(max_epochs=400, refresh_start=40, refresh_interval=40)
    assert base_schedule['refresh_start'] is None
    for cfg in (base_cfg, famt_cfg):
        loader = cfg.train_dataloader
        assert loader.dataset.type == 'CustomDataset' and loader.dataset.data_root == root
        assert loader.batch_size == 4 and loader.num_workers == 0 and not loader.persistent_workers
        assert cfg.train_cfg.max_epochs == 3
        assert cfg.optim_wrapper.type == 'OptimWrapper' and cfg.optim_wrapper.optimizer.fused
        assert cfg.model.backbone.arch == 'deit-tiny' and cfg.model.neck.decoder_depth == 1
        assert loader.dataset.pipeline[1].scale == 64
    (hook,) = famt_cfg.custom_hooks
    assert (hook.start_epoch, hook.interval) == (1, 3)  # one refresh in a 3-epoch run
    assert 'pipeline' not in hook  # derived from the training pipeline at 64 px


def test_loader_measurement_times_every_stage(folder, tmp_path):
    root, _ = folder
    opts = E2EOptions(
        data_root=root, batch_size=2, workers=0, arch='deit-tiny', img_size=64, work_dir=str(tmp_path)
    )
    figures = loader_figures(PAIRS['mae'][1], opts, num_images=4)
    assert figures['pipeline'] == [
        'LoadImageFromFile',
        'FAMTRandomResizedCropWithBox',
        'RandomFlip',
        'PackFAMTInputs',
    ]
    assert set(figures['stages_ms']) == set(figures['pipeline']) | {'collate'}
    assert figures['images_per_s'] > 0 and figures['num_images'] == 4
    # the stages add up to (almost all of) the time per image
    assert sum(figures['stages_ms'].values()) <= figures['ms_per_image'] * 1.001


def _step_result(batch):
    mib = 2**20
    methods = {
        'MAE': dict(step_time=dict(median_s=2.0), memory=dict(peak_bytes=3000 * mib, step_bytes=2000 * mib)),
        'FAMT': dict(
            step_time=dict(median_s=1.25), memory=dict(peak_bytes=2000 * mib, step_bytes=1000 * mib)
        ),
    }
    refresh = dict(scoring=dict(images_per_s=900.0), plain_inference=dict(images_per_s=1000.0), ratio=0.9)
    return dict(
        machine=dict(gpu='test gpu', torch='x', python='3.12', platform='y'),
        date='2026-01-02T03:04:05+00:00',
        settings=dict(batch_size=batch, amp=True, optimizer='fused'),
        pairs=dict(
            mae=dict(
                baseline='MAE',
                famt='FAMT',
                methods=methods,
                time_ratio=0.625,
                flops_ratio=0.604,
                refresh=refresh,
            )
        ),
    )


def _junit(path, failed: bool):
    failure = '<failure message="boom"/>' if failed else ''
    path.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="3" failures="'
        f'{int(failed)}" errors="0" skipped="1"><testcase classname="t.test_a" name="test_ok"/>'
        f'<testcase classname="t.test_a" name="test_bad">{failure}</testcase>'
        '<testcase classname="t.test_a" name="test_skip"><skipped/></testcase>'
        '</testsuite></testsuites>'
    )
    return path


def test_kit_report_merges_into_one_json_and_one_markdown(tmp_path, capsys):
    summary = {
        'MAE': dict(median_epoch_s=10.0, data_share=0.02, images_per_s=100.0),
        'FAMT': dict(median_epoch_s=6.5, data_share=0.3, images_per_s=154.0),
    }
    e2e = dict(
        settings=dict(batch_size=128, workers=8, amp=True, optimizer='fused'),
        pairs=dict(
            mae=dict(
                baseline='MAE',
                famt='FAMT',
                summary=summary,
                epoch_ratio=0.65,
                throughput_ratio=100.0 / 154.0,
                refresh=dict(images_per_s=1234.0),
            )
        ),
    )
    paths = []
    for name, result in (('step_b256', _step_result(256)), ('e2e', e2e)):
        paths.append(tmp_path / f'{name}.json')
        paths[-1].write_text(json.dumps(result))
    junit = _junit(tmp_path / 'tests.xml', failed=True)
    stages = tmp_path / 'stages.tsv'
    stages.write_text('install\t0\t3.2\t60\ntests\t124\t200.4\t200\nstep mae\t1\t9.0\t60\n')
    merged = report_tool.main(
        [
            *map(str, paths),
            '--tests',
            str(junit),
            '--stages',
            str(stages),
            '--json',
            str(tmp_path / 'kit.json'),
            '--md',
            str(tmp_path / 'kit.md'),
        ]
    )
    assert json.loads((tmp_path / 'kit.json').read_text()) == merged
    assert list(merged['runs']) == ['step_b256', 'e2e']
    assert merged['tests'] == dict(
        passed=1, failed=1, errors=0, skipped=1, failed_tests=['t.test_a::test_bad'], file='tests.xml'
    )
    md = (tmp_path / 'kit.md').read_text().splitlines()
    # the machine the report runs on (the kit's), with its OpenMMLab stack
    here = merged['machine']
    assert md[0].startswith(f'{here.get("gpu") or here["cpu"]}, torch {here["torch"]}')
    assert f'mmengine {here["packages"]["mmengine"]}' in md[0]
    assert kit_markdown(dict(runs=dict(a=_step_result(8)))).startswith('test gpu, torch x, Python 3.12, y')
    assert merged['stages'][1] == dict(stage='tests', exit=124, seconds=200.4, limit_s=200.0)
    assert '| install | 3 | ok |' in md
    assert '| tests | 200 | STOPPED at its time limit (200 s) |' in md
    assert '| step mae | 9 | FAILED (exit 1) |' in md
    assert 'tests: 1 passed, 1 failed, 0 errors, 1 skipped' in md
    assert '- FAILED t.test_a::test_bad' in md
    # per device: 256 / 2.0 and 256 / 1.25 images/s; peak memory (of which the step)
    assert (
        '| step_b256 | mae | 256 | amp, AdamW fused | 2.000 | 1.250 | 0.625 | 0.604 | 128 | '
        '205 | 3,000 (2,000) / 2,000 (1,000) | 900 / 1,000 (0.900) |'
    ) in md
    assert (
        '| e2e | mae | 128 | amp, AdamW fused, 8 workers | 10.00 | 6.50 | 0.650 | 0.649 | 100 | 154 | '
        '2% / 30% | 1,234 |'
    ) in md
    assert md.index('### Training step') < md.index('### End to end')
    passing = report_tool.main(
        [
            '--tests',
            str(_junit(tmp_path / 'ok.xml', failed=False)),
            '--json',
            str(tmp_path / 'ok.json'),
            '--md',
            str(tmp_path / 'ok.md'),
        ]
    )
    assert passing['tests']['failed'] == 0 and passing['tests']['passed'] == 2
    assert kit_markdown(merge_results([], [])) == ''
    for argv, message in (
        ([str(tmp_path / 'none.json')], 'no such file'),
        ([], 'nothing to report'),
        (['--stages', str(tmp_path / 'none.tsv')], 'no such file'),
    ):
        with pytest.raises(SystemExit):
            report_tool.parse_args([*argv, '--json', 'a', '--md', 'b'])
        assert message in capsys.readouterr().err


@pytest.mark.slow
def test_e2e_tiny_run_crosses_the_refresh_and_reports_every_figure(tmp_path, capsys):
    out = tmp_path / 'e2e.json'
    work = tmp_path / 'work'
    results = e2e_tool.main(
        [
            '--tiny',
            '--pairs',
            'mae',
            'simmim',
            '--num-images',
            '8',
            '--batch-size',
            '4',
            '--workers',
            '0',
            '--epochs',
            '2',
            '--refresh-start',
            '1',
            '--loader-images',
            '2',
            '--work-dir',
            str(work),
            '--out',
            str(out),
        ]
    )
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    assert os.listdir(work) == []  # generated images and run folders are removed
    for key in ('mae', 'simmim'):
        r = results['pairs'][key]
        base, famt = r['summary'][r['baseline']], r['summary'][r['famt']]
        assert base['epochs'] == famt['epochs'] == [1]
        assert famt['guided'] and not base['guided']
        for s in (base, famt):
            assert s['median_epoch_s'] > 0 and s['images_per_s'] > 0 and s['loss_finite']
            assert 0 <= s['data_share'] < 1 and 0 <= s['hooks_share'] < 1
        for name in (r['baseline'], r['famt']):
            epochs = r['methods'][name]['epochs']
            assert [e['epoch'] for e in epochs] == [0, 1]
            assert all(e['images'] == 8 and e['iters'] == 2 for e in epochs)
        (refresh,) = r['methods'][r['famt']]['refreshes']
        assert refresh['epoch'] == 1 and refresh['images'] == 8 and refresh['maps_finite']
        assert r['refresh']['config_interval'] == 40
        assert 0 < r['refresh']['share_at_config_interval'] < 1
        assert r['epoch_ratio'] > 0 and r['step_ratio'] > 0 and r['schedule_ratio'] > 0
        assert set(r['pace']) == {r['baseline'], r['famt']}
        assert all(p['workers_needed'] >= 1 for p in r['pace'].values())
    table = capsys.readouterr().out
    assert '| end-to-end mae |' in table and '| end-to-end simmim |' in table
    assert 'worker(s) keep up' in table


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_gpu_kit_runs_on_cpu_at_tiny_sizes(tmp_path):
    # one pair keeps it short; the e2e test above runs both
    # no wheels to install: this environment has the stack (a checkout's .whl/ is for the GPU machine)
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        PAIRS='mae',
        WORK=str(tmp_path / 'work'),
        WHEELS=str(tmp_path / 'no_wheels'),
    )
    out = tmp_path / 'out'
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'gpu_benchmark.sh'), str(out), '--device', 'cpu', '--tiny'],
        env=env,
        capture_output=True,
        text=True,
        timeout=1400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    merged = json.loads((out / 'gpu_benchmark.json').read_text())
    assert list(merged['runs']) == ['step_mae', 'e2e']
    assert [(s['stage'], s['exit']) for s in merged['stages']] == [('tests', 0), ('step mae', 0), ('e2e', 0)]
    # the CUDA tests ran and skipped themselves here, each of them
    assert merged['tests']['skipped'] > 10 and merged['tests']['passed'] == 0
    assert merged['tests']['failed'] == merged['tests']['errors'] == 0
    md = (out / 'gpu_benchmark.md').read_text().splitlines()
    assert md.index('### Training step') < md.index('### End to end')
    rows = [line for line in md if line.startswith(('| step_mae | mae |', '| e2e | mae |'))]
    assert len(rows) == 2
    assert not (tmp_path / 'work').exists()  # scratch removed

    # a spent budget skips the stages, and the kit still reports, failing
    spent = subprocess.run(
        [
            'bash',
            osp.join(ROOT, 'tools', 'gpu_benchmark.sh'),
            str(tmp_path / 'spent'),
            '--device',
            'cpu',
            '--tiny',
        ],
        env=dict(env, KIT_S='25'),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert spent.returncode == 1 and "skipped, the kit's budget of 25 s is spent" in spent.stdout
    stopped = json.loads((tmp_path / 'spent' / 'gpu_benchmark.json').read_text())['stages']
    assert {s['exit'] for s in stopped} == {124} and len(stopped) == 3
    for argv, message in (
        (['--device', 'tpu'], '--device must be cuda or cpu'),
        (['--tiny', '--fast'], 'unknown option --fast'),
    ):
        bad = subprocess.run(
            ['bash', osp.join(ROOT, 'tools', 'gpu_benchmark.sh'), str(tmp_path), *argv],
            env=env,
            capture_output=True,
            text=True,
        )
        assert bad.returncode == 2 and message in bad.stderr
    bad = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'gpu_benchmark.sh'), str(tmp_path), '--tiny'],
        env=dict(env, KIT_S='ten'),
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and 'KIT_S must be a whole number' in bad.stderr
