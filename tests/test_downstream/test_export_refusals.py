"""Refusals of the export tool and of the transfer backbones' loaders that need neither mmdet nor mmseg:
pretraining checkpoints of backbones the transfer configs do not take (named by kind, from their keys),
configs that are no config, and a stack without mmdet / mmseg / mmcv's ops (imports blocked in-process;
in an environment without them, as they are). Runs in both test environments."""

import sys

import pytest
import torch
from downstream_utils import (
    DET_CONFIG,
    EXPORT_TOOL,
    SEG_CONFIG,
    build_mmpretrain,
    keep_default_scope,  # noqa: F401  (autouse fixture)
    tiny_vit_checkpoint,
)

from famt_mm.checkpoint import (
    MMDET,
    MMSEG,
    TRANSFER_SOURCES,
    backbone_kind,
    check_loadable,
    vit_backbone_state,
)
from famt_mm.downstream.export import ExportError, export_backbone, missing_stack
from famt_mm.testing import (
    load_script,
    swin_simmim_cfg,
    tiny_maskfeat_cfg,
    tiny_mff_cfg,
    tiny_spark_cfg,
    tiny_spark_convnext_cfg,
)
from famt_mm.testing.beit_cae import tiny_beit_cfg, tiny_beitv2_cfg, tiny_cae_cfg

ARCH = dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64)

#: pretraining models of famt_mm whose backbones the transfer configs do not take, and the kind their
#: keys give
OTHER_MODELS = {
    'beit': (tiny_beit_cfg, 'a BEiT-style ViT backbone'),
    'beitv2': (tiny_beitv2_cfg, 'a BEiT-style ViT backbone'),
    'cae': (tiny_cae_cfg, 'a BEiT-style ViT backbone'),
    'simmim-swin': (swin_simmim_cfg, 'a Swin Transformer backbone'),
    'spark-resnet': (tiny_spark_cfg, 'a ResNet backbone'),
    'spark-convnext': (tiny_spark_convnext_cfg, 'a ConvNeXt backbone'),
}


def _tool():
    return load_script(EXPORT_TOOL, 'export_backbone_tool')


@pytest.fixture(scope='module')
def famt_src(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('famt') / 'famt_mae.pth')
    tiny_vit_checkpoint(path, kind='famt_mae')
    return path


@pytest.fixture(scope='module', params=sorted(OTHER_MODELS))
def other_checkpoint(request, tmp_path_factory):
    """(name, path, state dict, expected description) of a tiny pretraining checkpoint as the Runner
    writes it (``state_dict`` of the whole model, the importance cache beside it)."""
    make, description = OTHER_MODELS[request.param]
    state = build_mmpretrain(make()).state_dict()
    path = str(tmp_path_factory.mktemp('other') / f'{request.param}.pth')
    torch.save(
        dict(
            meta=dict(epoch=1),
            state_dict=state,
            famt_importance=dict(maps=torch.rand(4, 2, 2).half(), epoch=1),
        ),
        path,
    )
    return request.param, path, state, description


def _one_line(err: str) -> str:
    lines = [
        line
        for line in err.splitlines()
        if line.strip() and 'Warning' not in line and not line.startswith(' ')
    ]
    assert len(lines) == 1, err
    return lines[0]


def test_the_export_tool_names_the_backbone_kind_and_what_the_transfer_configs_take(
    other_checkpoint, tmp_path, capsys
):
    name, src, _, description = other_checkpoint
    out = tmp_path / 'out.pth'
    with pytest.raises(ExportError) as error:
        export_backbone(src, DET_CONFIG, str(out))
    message = str(error.value)
    assert message.startswith(f'{src}: it holds {description}')
    assert TRANSFER_SOURCES in message and 'Exporting cannot turn it into a ViT' in message
    assert not out.exists()
    assert _tool().main([src, SEG_CONFIG, str(out)]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f'export refused: {src}: it holds {description}') and 'FAMT-MAE' in line
    assert not out.exists()


def test_the_transfer_backbones_name_the_kind_instead_of_asking_for_an_export(other_checkpoint):
    """The check the downstream backbones run before their own non-strict loaders, with the whole-model
    state dict (a pretraining checkpoint given to a config) and the bare backbone state dict."""
    _, src, state, description = other_checkpoint
    for spec in (MMDET, MMSEG):
        with pytest.raises(ValueError) as error:
            check_loadable(state, {}, spec, where=src)
        message = str(error.value)
        assert f'{src} is a whole-model pretraining checkpoint, and it holds {description}' in message
        assert 'export it first' not in message and TRANSFER_SOURCES in message
        bare = {k[len('backbone.') :]: v for k, v in state.items() if k.startswith('backbone.')}
        expected = {'pos_embed': torch.zeros(1, 5, 8)}
        with pytest.raises(
            ValueError, match=f'does not initialise this {spec.name} backbone: it holds {description}'
        ):
            check_loadable(bare, expected, spec, where=src)


def test_a_vit_pretraining_checkpoint_is_still_asked_to_be_exported(famt_src):
    state = torch.load(famt_src, weights_only=True)['state_dict']
    with pytest.raises(
        ValueError,
        match=r'whole-model checkpoint \(backbone\.\* keys\), not a mmdet '
        r'backbone: export it first with tools/export_backbone.py SRC '
        r'CONFIG OUT$',
    ):
        check_loadable(state, {}, MMDET, where=famt_src)


@pytest.mark.parametrize(
    'name,make',
    [
        ('mff', lambda: tiny_mff_cfg(img_size=32, patch_size=16)),
        ('maskfeat', tiny_maskfeat_cfg),
        ('milan-backbone', lambda: dict(type='FAMTMILANViT', arch=ARCH, img_size=32, patch_size=16)),
        ('mae-backbone', lambda: dict(type='MAEViT', arch=ARCH, img_size=32, patch_size=16)),
    ],
)
def test_the_vit_family_checkpoints_give_plain_vit_backbones(name, make):
    """MFF's fusion layers (pretraining only) stay behind with the decoder; MaskFeat's mask token and
    MILAN's / MAE's ViTs are plain ViT keys."""
    state = build_mmpretrain(make()).state_dict()
    if not any(k.startswith('backbone.') for k in state):
        state = {f'backbone.{k}': v for k, v in state.items()}
    stripped = [k[len('backbone.') :] for k in state if k.startswith('backbone.')]
    assert backbone_kind(stripped) == 'vit'
    backbone, ignored = vit_backbone_state(state)
    # CLS token, position embedding, patch embedding and final norm (weights, biases), 12 per block
    assert len(backbone) == 6 + 12 * 2 + ('mask_token' in backbone)
    fusion = [k for k in stripped if k.startswith('proj_')]
    assert bool(fusion) == (name == 'mff')
    if fusion:
        assert {'backbone.proj_layers.*', 'backbone.proj_weights'} <= set(ignored)
        assert not any(k.startswith('proj_') for k in backbone)


def test_keys_of_an_exported_mmdet_backbone_are_named_as_such():
    keys = ['pos_embed', 'patch_embed.proj.weight', 'blocks.0.attn.qkv.weight']
    assert backbone_kind(keys) == 'vitdet'
    with pytest.raises(ValueError, match='already exported mmdet backbone'):
        vit_backbone_state({k: torch.zeros(1) for k in keys})
    assert backbone_kind(['encoder.weight']) == 'unknown'


@pytest.mark.parametrize(
    'make,message',
    [
        (
            lambda d: d.joinpath('notes.txt').write_text('epoch 3\n') and d / 'notes.txt',
            '{config} is not a config file: mmengine reads .py, .json, .yaml, .yml configs',
        ),
        (
            lambda d: torch.save({'state_dict': {}}, d / 'ckpt.pth') or d / 'ckpt.pth',
            '{config} is not a config file: mmengine reads .py, .json, .yaml, .yml configs',
        ),
        (
            lambda d: d.joinpath('broken.py').write_text('model = dict(\n') and d / 'broken.py',
            '{config} is not a config mmengine can read (SyntaxError: ',
        ),
        (
            lambda d: d.joinpath('names.py').write_text('model = undefined_name\n') and d / 'names.py',
            "{config} is not a config mmengine can read (NameError: name 'undefined_name' is not defined)",
        ),
        (
            lambda d: (
                d.joinpath('nobackbone.py').write_text("default_scope = 'mmdet'\nmodel = dict()\n")
                and d / 'nobackbone.py'
            ),
            '{config} has no model.backbone',
        ),
    ],
)
def test_the_tool_names_a_config_that_is_no_config_in_one_line_and_writes_nothing(
    make, message, famt_src, tmp_path, capsys
):
    (tmp_path / 'cfg').mkdir()
    config = str(make(tmp_path / 'cfg'))
    out = tmp_path / 'out' / 'det.pth'
    assert _tool().main([famt_src, config, str(out)]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith('export refused: ') and message.format(config=config) in line, line
    assert not (tmp_path / 'out').exists()


def _block(monkeypatch, package: str, users: str) -> None:
    """Make ``import package`` (and its submodules) fail in this process, as if it were not installed;
    ``users``: famt_mm modules that import it, dropped from the cache so that they import it again."""
    for name in list(sys.modules):
        if name.startswith(users):
            monkeypatch.delitem(sys.modules, name)
        elif name == package or name.startswith(package + '.'):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, package, None)


@pytest.mark.parametrize(
    'config,package,extra',
    [
        (DET_CONFIG, 'mmdet', 'det'),
        (SEG_CONFIG, 'mmseg', 'seg'),
    ],
)
@pytest.mark.parametrize('how', ['import', 'distribution'])
def test_the_tool_without_mmdet_or_mmseg_names_the_extra(
    config, package, extra, how, famt_src, tmp_path, monkeypatch, capsys
):
    """'import': the package's import fails (the configs' custom_imports); 'distribution': mmengine
    finds no installed package for the configs' ``mmdet::`` / ``mmseg::`` bases."""
    if how == 'import':
        _block(monkeypatch, package, f'famt_mm.downstream.{extra}')
    else:
        import mmengine.config.config as mmengine_config

        distribution = 'mmsegmentation' if package == 'mmseg' else package
        original = mmengine_config.is_installed
        monkeypatch.setattr(
            mmengine_config, 'is_installed', lambda name: name != distribution and original(name)
        )
    out = tmp_path / 'out.pth'
    assert _tool().main([famt_src, config, str(out)]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f'export refused: {config} needs {package}'), line
    assert f'pip install -e ".[{extra}]"' in line and 'mmcv with compiled ops' in line
    assert 'mmcv-lite is not enough' in line
    assert not out.exists()


def test_a_missing_mmcv_op_or_an_mmcv_version_mmdet_refuses_names_mmcv_with_ops():
    try:  # mmengine's Config.fromfile re-raises a failed custom import with its own message
        try:
            raise ModuleNotFoundError("No module named 'mmcv._ext'", name='mmcv._ext')
        except ImportError as inner:
            raise ImportError(
                "Failed to import custom modules from {'imports': ['famt_mm.downstream.det']}"
            ) from inner
    except ImportError as error:
        refusal = missing_stack(error, 'det.py', target='mmdet')
    assert str(refusal).startswith(
        'det.py needs mmcv with compiled ops, which cannot be imported here '
        "(ModuleNotFoundError: No module named 'mmcv._ext')"
    )
    assert 'pip install -e ".[det]"' in str(refusal) and '".[seg]"' not in str(refusal)
    version = AssertionError('MMCV==2.2.0 is used but incompatible. Please install mmcv>=2.0.0rc4, <2.2.0.')
    assert 'pip install -e ".[seg]"' in str(missing_stack(version, 'seg.py', target='mmseg'))
    assert missing_stack(ImportError("No module named 'yapf'", name='yapf'), 'x.py') is None
    assert missing_stack(KeyError('model'), 'x.py') is None
