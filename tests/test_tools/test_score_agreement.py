"""tools/score_agreement.py: ViT and X-ViT maps of the same held-out digits, rank-compared per reading."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from famt_mm.testing import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout
tool = load_script(osp.join(ROOT, 'tools', 'score_agreement.py'), 'famt_tool_score_agreement')


def _checkpoint(config: str, seed: int, path) -> str:
    cfg = Config.fromfile(osp.join(ROOT, config))
    model_cfg = cfg.model.to_dict()
    model_cfg['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def test_maps_of_the_same_model_agree_fully_and_each_reading_is_compared(tmp_path):
    vit = _checkpoint(tool.VIT_CONFIG, 0, tmp_path / 'vit.pth')
    xvits = [_checkpoint(tool.XVIT_CONFIG, s, tmp_path / f'xvit{s}.pth') for s in (0, 1)]
    out = tool.main(
        [
            '--vit-checkpoints',
            vit,
            vit,
            '--xvit-checkpoints',
            *xvits,
            '--images',
            '6',
            '--out',
            str(tmp_path / 'agreement.json'),
        ]
    )
    result = out['agreement']
    assert set(result) == {
        'ViT vs X-ViT (clip)',
        'ViT vs X-ViT (shift)',
        'ViT vs X-ViT (abs)',
        'ViT vs ViT (next seed)',
        'ViT softmax vs its own cosines (clip)',
        'ViT softmax vs its own cosines (shift)',
        'ViT softmax vs its own cosines (abs)',
    }
    # the "next seed" here is the same checkpoint: identical maps, correlation 1
    assert result['ViT vs ViT (next seed)']['FAMT'] == pytest.approx([1.0, 1.0])
    for comparison in result.values():
        for values in comparison.values():
            assert len(values) == 2 and all(-1 <= v <= 1 for v in values)
    # the reading changes the X-ViT's attention maps
    assert result['ViT vs X-ViT (clip)']['AMT'] != result['ViT vs X-ViT (abs)']['AMT']
    assert out['images'] == 6 and '| ViT vs X-ViT (clip) |' in out['table']


def test_unpaired_checkpoints_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(['--vit-checkpoints', 'a', '--xvit-checkpoints', 'b', 'c'])
    assert 'pair by seed' in capsys.readouterr().err
