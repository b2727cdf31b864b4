"""tools/dist_train.sh, dist_test.sh and slurm_train.sh: mmpretrain's arguments, our tools found from the
scripts' own folder, and the caller's working directory kept (a relative config path means what it says).
A stub interpreter / srun records what it was asked to run instead of running it."""

import json
import os
import os.path as osp
import subprocess

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')

STUB = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ['STUB_RECORD'], 'w') as f:
    json.dump(dict(name=os.path.basename(sys.argv[0]), argv=sys.argv[1:], cwd=os.getcwd(),
                   pythonpath=os.environ.get('PYTHONPATH', '')), f)
"""


@pytest.fixture
def stub(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name in ('python-stub', 'srun'):
        (bin_dir / name).write_text(STUB)
        (bin_dir / name).chmod(0o755)
    caller = tmp_path / 'caller'
    caller.mkdir()
    record = tmp_path / 'record.json'

    def run(script, *args, **env):
        environ = dict(
            os.environ,
            PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
            PYTHON=str(bin_dir / 'python-stub'),
            STUB_RECORD=str(record),
            **env,
        )
        environ.pop('PYTHONPATH', None)
        subprocess.run(['bash', osp.join(TOOLS, script), *args], cwd=caller, env=environ, check=True)
        return json.loads(record.read_text())

    run.caller = str(caller)
    return run


def test_dist_train_keeps_the_callers_directory_and_passes_mmpretrains_arguments(stub):
    got = stub('dist_train.sh', 'my_configs/x.py', '4', '--amp', '--work-dir', 'out dir')
    assert got['cwd'] == stub.caller
    assert got['pythonpath'].split(os.pathsep)[0] == ROOT
    argv = got['argv']
    assert argv[:2] == ['-m', 'torch.distributed.run']
    assert '--nproc_per_node=4' in argv and '--nnodes=1' in argv and '--master_port=29500' in argv
    start = argv.index(osp.join(TOOLS, 'train.py'))
    assert argv[start:] == [
        osp.join(TOOLS, 'train.py'),
        'my_configs/x.py',
        '--launcher',
        'pytorch',
        '--amp',
        '--work-dir',
        'out dir',
    ]


def test_dist_train_takes_the_multi_node_settings_from_the_environment(stub):
    argv = stub(
        'dist_train.sh', 'x.py', '8', NNODES='2', NODE_RANK='1', MASTER_ADDR='10.0.0.1', PORT='29600'
    )['argv']
    assert {'--nnodes=2', '--node_rank=1', '--master_addr=10.0.0.1', '--master_port=29600'} <= set(argv)


def test_dist_test_takes_config_checkpoint_gpus(stub):
    got = stub('dist_test.sh', 'x.py', 'work_dirs/x/epoch_1.pth', '2', '--work-dir', 'w')
    assert got['cwd'] == stub.caller
    argv = got['argv']
    assert '--nproc_per_node=2' in argv
    start = argv.index(osp.join(TOOLS, 'test.py'))
    assert argv[start:] == [
        osp.join(TOOLS, 'test.py'),
        'x.py',
        'work_dirs/x/epoch_1.pth',
        '--launcher',
        'pytorch',
        '--work-dir',
        'w',
    ]


@pytest.mark.parametrize('work_dir', [['work_dirs/run1'], []])
def test_slurm_train_takes_partition_job_config_and_an_optional_work_dir(stub, work_dir):
    got = stub(
        'slurm_train.sh',
        'gpu',
        'famt',
        'x.py',
        *work_dir,
        '--resume',
        GPUS='16',
        SRUN_ARGS='--quotatype=auto --time=1:00:00',
    )
    assert got['name'] == 'srun' and got['cwd'] == stub.caller
    argv = got['argv']
    assert argv[:2] == ['-p', 'gpu']
    assert {
        '--job-name=famt',
        '--ntasks=16',
        '--gres=gpu:8',
        '--ntasks-per-node=8',
        '--cpus-per-task=5',
        '--quotatype=auto',
        '--time=1:00:00',
    } <= set(argv)
    start = argv.index(osp.join(TOOLS, 'train.py'))
    assert argv[start - 2].endswith('python-stub') and argv[start - 1] == '-u'  # srun runs $PYTHON -u
    work_dir_args = ['--work-dir', work_dir[0]] if work_dir else []
    assert argv[start:] == [
        osp.join(TOOLS, 'train.py'),
        'x.py',
        *work_dir_args,
        '--launcher',
        'slurm',
        '--resume',
    ]


@pytest.mark.parametrize(
    'script,args',
    [('dist_train.sh', ['x.py']), ('dist_test.sh', ['x.py', '2']), ('slurm_train.sh', ['gpu', 'job'])],
)
def test_too_few_arguments_print_the_usage(script, args, tmp_path):
    out = subprocess.run(
        ['bash', osp.join(TOOLS, script), *args], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 2 and 'usage:' in out.stderr
