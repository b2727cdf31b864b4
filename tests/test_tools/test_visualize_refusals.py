"""tools/visualize.py refuses, in one line and writing nothing, what used to end in a traceback: the
digits without scikit-learn, generator options the generator or the model refuses, an --out-dir that
is a file."""

import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from famt_mm.testing import DEMO_CONFIG, load_script
from famt_mm.utils.configs import find_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout
SPARK_DIGITS = 'famt/pretrain/famt-spark_sparse-convnext-mini-p8_1xb64-60e_digits.py'


def _cli(args, capsys) -> str:
    """Run the tool in-process; it must exit 1 with one line ``visualize: error: ...``, returned."""
    tool = load_script(osp.join(ROOT, 'tools', 'visualize.py'), 'famt_tool_visualize')
    assert tool.cli(args) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('visualize: error: '), err
    return lines[0]


def _image(tmp_path):
    path = str(tmp_path / 'photo.png')
    cv2.imwrite(path, np.random.RandomState(0).randint(0, 255, (20, 20, 3), dtype=np.uint8))
    return path


def test_digits_without_scikit_learn_name_the_demo_extra(tmp_path, monkeypatch, capsys):
    for name in [n for n in sys.modules if n == 'sklearn' or n.startswith('sklearn.')]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, 'sklearn', None)
    out = tmp_path / 'out'
    line = _cli([find_config(DEMO_CONFIG), '--digits', '0', '--out-dir', str(out)], capsys)
    assert line.startswith('visualize: error: --digits: the digits come with scikit-learn')
    assert 'pip install -e ".[demo]"' in line and '--images' in line
    assert not out.exists()


@pytest.mark.parametrize(
    'config,options,message',
    [
        (DEMO_CONFIG, ['mask_ratio=1.5'], 'mask_ratio must lie in [0, 1), got 1.5'),
        (DEMO_CONFIG, ['mask_ratio=0.9', 'throw_ratio=0.2'], 'mask_ratio + throw_ratio must be below 1'),
        (DEMO_CONFIG, ['weight_source=bogus'], "weight_source must be one of 'fused'"),
        (DEMO_CONFIG, ['type=NoSuchGenerator'], "unknown mask generator type 'NoSuchGenerator'"),
        (DEMO_CONFIG, ['colour=red'], "got an unexpected keyword argument 'colour'"),
        # the generator accepts it, the model does not: SparK's convolutions cannot throw
        (
            SPARK_DIGITS,
            ['throw_ratio=0.3', 'throw_mode=lowest'],
            "the model refuses the mask generator {'throw_ratio': 0.3, 'throw_mode': 'lowest'} (FAMTSparK "
            'cannot throw',
        ),
    ],
)
def test_generator_options_the_generator_or_model_refuses_end_in_one_line(
    config, options, message, tmp_path, capsys
):
    out = tmp_path / 'out'
    line = _cli(
        [
            find_config(config),
            '--images',
            _image(tmp_path),
            '--generator-options',
            *options,
            '--out-dir',
            str(out),
        ],
        capsys,
    )
    assert line.startswith('visualize: error: --generator-options: ') and message in line, line
    assert not out.exists()


@pytest.mark.parametrize('sub', ['', 'figures'])
def test_an_out_dir_that_is_a_file_or_under_a_file_is_refused(sub, tmp_path, capsys):
    existing = tmp_path / 'figures.png'
    existing.write_bytes(b'kept')
    out = osp.join(str(existing), sub) if sub else str(existing)
    line = _cli([find_config(DEMO_CONFIG), '--images', _image(tmp_path), '--out-dir', out], capsys)
    where = out if not sub else f'{out} (its parent {existing})'
    assert line == (
        f'visualize: error: --out-dir: {where} is a file, not a directory; give the folder '
        'the figures go to (made if missing)'
    )
    assert existing.read_bytes() == b'kept'
