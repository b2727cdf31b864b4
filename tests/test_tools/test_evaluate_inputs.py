"""tools/evaluate.py refuses a pretraining path, config or data root it cannot use, naming it, with exit
status 1, before anything is trained or written."""

import os.path as osp

import pytest
import torch

from famt_mm.testing import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout


def _tool():
    tool = load_script(osp.join(ROOT, 'tools', 'evaluate.py'), 'famt_tool_evaluate')
    return tool


def _checkpoint(path, **entries):
    torch.save({'state_dict': {'backbone.w': torch.zeros(1)}, **entries}, path)
    return str(path)


@pytest.mark.parametrize(
    'make,message',
    [
        (lambda d: str(d / 'gone'), 'PRETRAIN: {d}/gone is neither a checkpoint nor a pretraining work dir'),
        (lambda d: str(d), 'PRETRAIN: no checkpoint in {d} (no last_checkpoint, no epoch_N.pth)'),
        (
            lambda d: d.joinpath('epoch_1.pth').write_bytes(b'0.5') and str(d),
            'PRETRAIN: {d}/epoch_1.pth is not a checkpoint: torch.load cannot read it',
        ),
        (
            lambda d: torch.save({'meta': {'cfg': 'x = 1'}}, d / 'a.pth') or str(d / 'a.pth'),
            'PRETRAIN: {d}/a.pth holds no state dict',
        ),
        (
            lambda d: _checkpoint(d / 'a.pth', meta={'epoch': 1}),
            'PRETRAIN: {d}/a.pth holds no pretraining config (meta["cfg"])',
        ),
    ],
)
def test_an_unusable_pretraining_path_is_named(make, message, tmp_path, capsys):
    work = tmp_path / 'pretrain'
    work.mkdir()
    table = tmp_path / 'results'
    code = _tool().cli([make(work), '--dataset', 'cifar10', '--table', str(table)])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith('evaluate: error: ') and message.format(d=work) in err, err
    assert not osp.exists(f'{table}.json') and not osp.exists(work / 'eval_cifar10')


def test_missing_configs_and_data_root_are_named(tmp_path, capsys):
    tool = _tool()
    ckpt = _checkpoint(tmp_path / 'epoch_1.pth', meta={'epoch': 1, 'cfg': 'x = 1'})
    base = [ckpt, '--dataset', 'cifar10', '--table', str(tmp_path / 'results')]
    assert tool.cli(base + ['--linear-config', str(tmp_path / 'gone.py')]) == 1
    assert f'--linear-config: no such config file {tmp_path}/gone.py' in capsys.readouterr().err
    assert tool.cli(base + ['--finetune-config', str(tmp_path)]) == 1
    assert f'--finetune-config: {tmp_path} is a directory, not a config file' in capsys.readouterr().err
    assert tool.cli(base + ['--data-root', str(tmp_path / 'data')]) == 1
    assert f'--data-root: {tmp_path}/data is not a directory' in capsys.readouterr().err
    assert not osp.exists(tmp_path / 'results.json')
