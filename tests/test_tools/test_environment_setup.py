"""What an existing OpenMMLab environment meets when it adds famt_mm: install requirements that are ranges
(no exact torch pin), an `import famt_mm` that needs neither mmcv's compiled ops nor mmdet / mmseg, a clear
error without mmcv, and mmengine checkpoints that load on old and new torch alike."""

import json
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# tests of the source tree's set-up files; a copy of tests/ run against an installed famt_mm
# (tools/check_installed.sh) has none of them
source_checkout = pytest.mark.skipif(
    not osp.isfile(osp.join(ROOT, 'setup.py')), reason='needs the source checkout (setup.py, requirements/)'
)


def _setup_metadata() -> dict:
    """install_requires and extras_require as setup.py hands them to setuptools."""
    code = (
        'import json, setuptools\n'
        'from distutils.core import run_setup\n'
        'dist = run_setup("setup.py", stop_after="init")\n'
        'print(json.dumps(dict(install_requires=dist.install_requires, extras=dist.extras_require)))'
    )
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def metadata():
    return _setup_metadata()


@source_checkout
def test_install_requires_pins_no_exact_version_of_torch_or_anything_else(metadata):
    requirements = [Requirement(r) for r in metadata['install_requires']]
    names = {r.name for r in requirements}
    assert {'torch', 'torchvision', 'mmengine', 'mmpretrain'} <= names
    for requirement in requirements:
        exact = [s for s in requirement.specifier if s.operator in ('==', '===')]
        assert not exact, (
            f'install_requires pins {requirement}: state the supported range and keep exact '
            f'versions in requirements/constraints*.txt'
        )
    torch_req = next(r for r in requirements if r.name == 'torch')
    # the classic OpenMMLab stack (torch 2.1) and the one tested in the main environment both satisfy it
    assert torch_req.specifier.contains('2.1.2') and torch_req.specifier.contains('2.13.0')


@source_checkout
def test_the_pretraining_core_needs_no_mmdet_mmseg_or_a_particular_mmcv(metadata):
    names = {Requirement(r).name for r in metadata['install_requires']}
    # mmcv-lite and mmcv provide the same module: requiring one would reinstall over the other
    assert not names & {'mmdet', 'mmsegmentation', 'mmcv', 'mmcv-lite'}
    extras = {key: {Requirement(r).name for r in value} for key, value in metadata['extras'].items()}
    assert 'mmdet' in extras['det'] and 'mmsegmentation' in extras['seg']
    assert extras['det'] | extras['seg'] <= extras['all']
    for key, value in metadata['extras'].items():
        for requirement in map(Requirement, value):
            assert not [s for s in requirement.specifier if s.operator in ('==', '===')], (key, requirement)


@source_checkout
def test_the_mmcv_range_checked_at_import_is_the_one_in_requirements_mminstall():
    import famt_mm

    lines = [line.split('#')[0].strip() for line in open(osp.join(ROOT, 'requirements', 'mminstall.txt'))]
    mmcv = [Requirement(line) for line in lines if line and Requirement(line).name == 'mmcv']
    assert len(mmcv) == 1
    assert mmcv[0].specifier == SpecifierSet(f'>={famt_mm.MMCV_MIN},<{famt_mm.MMCV_MAX}')


@source_checkout
def test_setup_env_takes_its_versions_from_the_constraints_files():
    script = open(osp.join(ROOT, 'tools', 'setup_env.sh')).read()
    assert not re.findall(r'==\s*\d', script), 'tools/setup_env.sh must read versions from requirements/'
    classic = open(osp.join(ROOT, 'requirements', 'constraints-classic.txt')).read()
    assert re.search(r'^torch==2\.1\.\d+$', classic, re.M) and re.search(r'^numpy<2$', classic, re.M)


# modules that the pretraining path must never need: mmcv-lite has no mmcv.ops (nor mmcv._ext)
BLOCKED = ('mmcv.ops', 'mmcv._ext', 'mmdet', 'mmseg')
_BLOCKER = f"""
import sys
BLOCKED = {BLOCKED!r}
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + '.') for b in BLOCKED):
            raise ModuleNotFoundError(f'{{name}} is blocked by the test', name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""


def test_import_famt_mm_and_a_model_of_the_demo_config_need_no_mmcv_ops_mmdet_or_mmseg():
    """As with mmcv-lite and no mmdet / mmseg installed, whatever this environment holds."""
    code = (
        _BLOCKER
        + """
import json
import famt_mm, famt_mm.visualization  # noqa: F401
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from famt_mm.testing import DEMO_CONFIG
from famt_mm.utils.configs import find_config
DefaultScope.get_instance('famt_light_test', scope_name='mmpretrain')
cfg = Config.fromfile(find_config(DEMO_CONFIG))
cfg.model.data_preprocessor = cfg.data_preprocessor  # as mmengine's Runner does
MODELS.build(cfg.model)
print(json.dumps(sorted(m for m in sys.modules if any(m == b or m.startswith(b + '.') for b in BLOCKED))))
"""
    )
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_import_famt_mm_loads_no_downstream_package_that_is_installed():
    """In this environment as it is: mmdet / mmseg / mmcv.ops stay unloaded unless mmpretrain itself loads
    them (mmpretrain.models imports mmdet.models whenever mmdet is installed)."""
    code = (
        'import sys, json\n'
        'before = set(sys.modules)\n'
        'import mmpretrain.models\n'
        'by_mmpretrain = set(sys.modules)\n'
        'import famt_mm\n'
        'print(json.dumps(sorted(m for m in set(sys.modules) - by_mmpretrain '
        f'if any(m == b or m.startswith(b + ".") for b in {BLOCKED!r}))))'
    )
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_without_mmcv_the_error_names_mmcv_lite_and_mmcv(monkeypatch):
    import famt_mm

    monkeypatch.setitem(sys.modules, 'mmcv', None)  # find_spec then reports it missing
    with pytest.raises(ImportError, match=r'mmcv-lite.*mmcv with compiled ops'):
        famt_mm._check_mmcv()


def test_an_mmcv_outside_the_range_is_named_with_the_range(monkeypatch):
    import mmcv

    import famt_mm

    monkeypatch.setattr(mmcv, '__version__', '2.4.0')
    with pytest.raises(
        ImportError, match=r'mmcv >= 2\.0\.0 and < 2\.4\.0; this environment has mmcv 2\.4\.0'
    ):
        famt_mm._check_mmcv()


def test_the_allow_list_is_left_alone_where_torch_has_none(monkeypatch):
    """torch < 2.4 has no add_safe_globals (and loads with weights_only=False by default)."""
    from famt_mm.checkpoint import allow_mmengine_checkpoints

    calls = []
    if hasattr(torch.serialization, 'add_safe_globals'):
        monkeypatch.setattr(torch.serialization, 'add_safe_globals', lambda globals_: calls.append(1))
        assert allow_mmengine_checkpoints() is True and calls == [1]
    monkeypatch.delattr(torch.serialization, 'add_safe_globals', raising=False)
    assert allow_mmengine_checkpoints() is False  # neither fails nor installs anything
    assert not hasattr(torch.serialization, 'add_safe_globals')


def test_an_mmengine_checkpoint_loads_through_mmengine_with_this_torchs_defaults(tmp_path):
    """What --resume and load_from do: mmengine's torch.load without weights_only, on torch 2.1 (default
    weights_only=False) as on torch >= 2.6 (default True, with famt_mm's allow-list)."""
    from mmengine.logging import HistoryBuffer, MessageHub
    from mmengine.runner.checkpoint import _load_checkpoint

    import famt_mm  # noqa: F401  (the allow-list, where torch has one)

    hub = MessageHub.get_instance('famt_env_setup_test')
    for value in (1.0, 3.0):
        hub.update_scalar('train/loss', value)
    hub.update_info('extra', np.float64(3.5))
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(
        dict(
            meta=dict(epoch=1),
            state_dict={'w': torch.ones(2)},
            message_hub=hub.state_dict(),
            famt_importance=np.ones((2, 4), np.float16),
        ),
        path,
    )
    from famt_mm.checkpoint import load_mmengine_checkpoint

    # mmengine's loader (resume, load_from) and famt_mm's own (tools, evaluation protocol)
    for loaded in (_load_checkpoint(path, map_location='cpu'), load_mmengine_checkpoint(path)):
        assert isinstance(loaded['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
        assert loaded['message_hub']['log_scalars']['train/loss'].mean() == pytest.approx(2.0)
        assert loaded['state_dict']['w'].tolist() == [1.0, 1.0]
