"""The export tool: pretraining checkpoints to mmdet's FAMTPlainViT and mmseg's MAE, checked key by key and
value by value, and its refusals."""

import os.path as osp
import subprocess
import sys

import pytest
import torch
from downstream_utils import require_mmdet_and_mmseg

require_mmdet_and_mmseg()  # before the imports below, which need them

from downstream_utils import (
    DET_CONFIG,
    EXPORT_TOOL,
    ROOT,
    TINY,
    build_mmpretrain,
    keep_default_scope,  # noqa: F401  (autouse fixture)
    tiny_det_cfg,
    tiny_seg_cfg,
    tiny_vit_checkpoint,
)

from famt_mm.downstream.export import ExportError, build_target_backbone, export_backbone
from famt_mm.testing import load_script


def vitdet_name(key: str) -> str:
    """mmpretrain -> ViTDet key names, written out independently of famt_mm.checkpoint.targets."""
    key = key.replace('patch_embed.projection.', 'patch_embed.proj.')
    if key.startswith('layers.'):
        key = 'blocks.' + key[len('layers.') :]
        for old, new in (
            ('.ln1.', '.norm1.'),
            ('.ln2.', '.norm2.'),
            ('.ffn.layers.0.0.', '.mlp.fc1.'),
            ('.ffn.layers.1.', '.mlp.fc2.'),
        ):
            key = key.replace(old, new)
    return key


def _relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    """Largest deviation relative to the largest magnitude (random weights make large activations)."""
    return float((got - expected).abs().max() / expected.abs().max())


def backbone_of(state):
    return {k[len('backbone.') :]: v for k, v in state.items() if k.startswith('backbone.')}


@pytest.fixture(scope='module')
def famt(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('famt') / 'famt_mae.pth')
    return path, tiny_vit_checkpoint(path, kind='famt_mae')


@pytest.fixture(scope='module')
def det_cfg():
    return tiny_det_cfg(None)


@pytest.fixture(scope='module')
def seg_cfg():
    return tiny_seg_cfg(None)


def test_famt_mae_to_mmdet_loads_every_backbone_key_with_identical_tensors(famt, det_cfg, tmp_path):
    src, state = famt
    out = str(tmp_path / 'det.pth')
    result = export_backbone(src, det_cfg, out)
    report = result.report
    assert (report.missing, report.unexpected, report.shape_mismatch, report.off_neutral) == ([],) * 4
    assert sorted(report.dropped) == ['cls_token', 'ln1.bias', 'ln1.weight']
    assert sorted(report.not_pretrained) == sorted(
        f'blocks.{i}.attn.rel_pos_{a}' for i in range(TINY['num_layers']) for a in 'hw'
    )
    assert {'neck.*', 'famt_importance', 'meta'} <= set(result.ignored)

    saved = torch.load(out, map_location='cpu', weights_only=True)
    assert set(saved) == {'model', 'meta'}  # the importance cache and the decoder stay behind
    loaded = build_target_backbone(det_cfg, checkpoint=out).state_dict()
    pretrained = {k: v for k, v in backbone_of(state).items() if k not in report.dropped}
    assert len(pretrained) == len(report.matched) == 3 + 12 * TINY['num_layers']
    for key, value in pretrained.items():
        assert torch.equal(loaded[vitdet_name(key)], value), key
    for key in report.not_pretrained:
        assert not loaded[key].any(), key
    assert set(loaded) == {vitdet_name(k) for k in pretrained} | set(report.not_pretrained)


def test_famt_mae_to_mmseg_loads_every_backbone_key_with_identical_tensors(famt, seg_cfg, tmp_path):
    src, state = famt
    out = str(tmp_path / 'seg.pth')
    report = export_backbone(src, seg_cfg, out).report
    assert (report.missing, report.unexpected, report.shape_mismatch, report.off_neutral) == ([],) * 4
    assert sorted(report.dropped) == ['ln1.bias', 'ln1.weight']  # UperNet reads earlier blocks
    assert set(torch.load(out, map_location='cpu', weights_only=True)) == {'state_dict', 'meta'}
    loaded = build_target_backbone(seg_cfg, checkpoint=out).state_dict()
    pretrained = {k: v for k, v in backbone_of(state).items() if k not in report.dropped}
    assert len(pretrained) == len(report.matched) == 4 + 12 * TINY['num_layers']
    for key, value in pretrained.items():
        assert torch.equal(loaded[key], value), key
    for key in report.not_pretrained:
        if 'gamma' in key:
            assert (loaded[key] == 1).all(), key
        elif 'bias_table' in key:
            assert not loaded[key].any(), key
    assert set(loaded) == set(pretrained) | set(report.not_pretrained)


def _pretrained_and_exported(famt, target_cfg, out: str):
    """The pretraining encoder and the downstream backbone built from its export, both in eval mode."""
    src, state = famt
    export_backbone(src, target_cfg, out)
    encoder = build_mmpretrain(dict(type='FAMTMAEViT', arch=TINY, img_size=64, patch_size=16))
    encoder.load_state_dict(backbone_of(state))
    encoder.eval()  # mmpretrain's BaseBackbone.train returns None
    target = build_target_backbone(target_cfg, checkpoint=out)
    target.eval()
    return encoder, target


def test_the_mmseg_backbone_computes_what_the_pretrained_encoder_computed(famt, seg_cfg, tmp_path):
    """Layer scale 1, zero relative bias and the same keys: the same features, layer by layer."""
    encoder, target = _pretrained_and_exported(famt, seg_cfg, str(tmp_path / 'seg.pth'))
    outputs = []
    for layer in encoder.layers:
        layer.register_forward_hook(lambda m, a, out: outputs.append(out))
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        encoder(images, mask=None)
        features = target(images)
    assert len(features) == len(outputs) == TINY['num_layers']
    for pretrained, feature in zip(outputs, features):
        expected = pretrained[:, 1:].transpose(1, 2).reshape(feature.shape)
        assert _relative_error(feature, expected) < 1e-5  # fused vs explicit attention: rounding only


def test_the_mmdet_global_block_computes_what_the_pretrained_block_computed(famt, det_cfg, tmp_path):
    """Same patch embedding; a global block with zero relative positions is the pretrained block."""
    encoder, target = _pretrained_and_exported(famt, det_cfg, str(tmp_path / 'det.pth'))
    assert target.blocks[1].window_size == 0  # global
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        tokens, grid = encoder.patch_embed(images)
        grid_tokens = target.patch_embed.proj(images).permute(0, 2, 3, 1)
        torch.testing.assert_close(grid_tokens.reshape(tokens.shape), tokens)
        expected = encoder.layers[1](tokens)
        got = target.blocks[1](grid_tokens)
    assert _relative_error(got.reshape(expected.shape), expected) < 1e-5


def test_mmseg_interpolates_the_position_embedding_to_its_input_size(famt, tmp_path):
    src, state = famt
    cfg = tiny_seg_cfg(None, size=128)  # 8 x 8 patches against the pretrained 4 x 4
    result = export_backbone(src, cfg, str(tmp_path / 'seg.pth'))
    assert result.report.resized == ['pos_embed']
    loaded = build_target_backbone(cfg, checkpoint=result.out).state_dict()['pos_embed']
    assert loaded.shape == (1, 1 + 64, TINY['embed_dims'])
    assert torch.equal(loaded[:, :1], state['backbone.pos_embed'][:, :1])  # the CLS position as it was


@pytest.mark.parametrize('kind', ['vit', 'simmim'])
@pytest.mark.parametrize('target', ['mmdet', 'mmseg'])
def test_vit_classifier_and_simmim_checkpoints_export_by_their_keys(kind, target, det_cfg, seg_cfg, tmp_path):
    src = str(tmp_path / f'{kind}.pth')
    state = tiny_vit_checkpoint(src, kind=kind, seed=1)
    result = export_backbone(src, det_cfg if target == 'mmdet' else seg_cfg, str(tmp_path / 'out.pth'))
    assert result.report.ok
    assert ('mask_token' in result.report.dropped) == (kind == 'simmim')
    assert ('neck.*' if kind == 'simmim' else 'head.*') in result.ignored  # SimMIM's head: no weights
    loaded = build_target_backbone(
        det_cfg if target == 'mmdet' else seg_cfg, checkpoint=result.out
    ).state_dict()
    name = vitdet_name if target == 'mmdet' else (lambda k: k)
    qkv = 'layers.3.attn.qkv.weight'
    assert torch.equal(loaded[name(qkv)], state[f'backbone.{qkv}'])


@pytest.mark.parametrize('target', ['mmdet', 'mmseg'])
def test_an_mff_checkpoint_exports_without_its_fusion_layers(target, det_cfg, seg_cfg, tmp_path):
    """MFF's proj_layers / proj_weights fuse the blocks' outputs for the pretraining decoder only."""
    from famt_mm.testing import tiny_mff_cfg

    cfg = tiny_mff_cfg(img_size=64, patch_size=16)
    cfg['backbone'].update(arch=TINY, out_indices=[1, 3])
    cfg['neck']['embed_dim'] = TINY['embed_dims']
    state = build_mmpretrain(cfg).state_dict()
    assert any(k.startswith('backbone.proj_layers.') for k in state)
    src = str(tmp_path / 'mff.pth')
    torch.save(dict(state_dict=state), src)
    result = export_backbone(src, det_cfg if target == 'mmdet' else seg_cfg, str(tmp_path / 'out.pth'))
    assert result.report.ok and not result.report.unexpected
    assert {'backbone.proj_layers.*', 'backbone.proj_weights'} <= set(result.ignored)
    loaded = build_target_backbone(
        det_cfg if target == 'mmdet' else seg_cfg, checkpoint=result.out
    ).state_dict()
    qkv = 'layers.2.attn.qkv.weight'
    assert torch.equal(loaded[vitdet_name(qkv) if target == 'mmdet' else qkv], state[f'backbone.{qkv}'])


def _refusal(src, cfg, out, match):
    with pytest.raises(ExportError, match=match):
        export_backbone(src, cfg, out)
    assert not osp.exists(out)


@pytest.mark.parametrize(
    'arch,match',
    [
        (
            dict(embed_dims=48, feedforward_channels=96),
            r'shapes differ .* pos_embed \(1, 17, 48\) vs '
            r'\(1, 17, 32\)',
        ),
        (dict(num_layers=3), r'would stay uninitialised .*blocks\.3\.'),
        (dict(num_layers=5), r'no place in the target backbone \(unexpected\): .*blocks\.4\.'),
    ],
)
def test_a_checkpoint_of_another_architecture_is_refused(arch, match, det_cfg, tmp_path):
    src = str(tmp_path / 'other.pth')
    tiny_vit_checkpoint(src, kind='famt_mae', **arch)
    _refusal(src, det_cfg, str(tmp_path / 'out.pth'), match)


def test_a_checkpoint_with_wrong_keys_is_refused(det_cfg, seg_cfg, tmp_path):
    src = str(tmp_path / 'resnet.pth')
    torch.save(
        dict(
            state_dict={
                'backbone.conv1.weight': torch.zeros(8, 3, 7, 7),
                'backbone.layer1.0.bn1.weight': torch.ones(8),
                'head.fc.weight': torch.zeros(2, 8),
            }
        ),
        src,
    )
    _refusal(src, det_cfg, str(tmp_path / 'out.pth'), r'it holds a ResNet backbone .* e\.g\. conv1\.weight')
    # keys of no known kind: named one by one
    torch.save(
        dict(
            state_dict={
                'backbone.encoder.weight': torch.zeros(8, 3),
                'backbone.pos_embed': torch.zeros(1, 5, 8),
            }
        ),
        src,
    )
    _refusal(
        src,
        det_cfg,
        str(tmp_path / 'out.pth'),
        r'1 backbone keys are not those of an mmpretrain VisionTransformer-family backbone '
        r'.*e\.g\. encoder\.weight\. The transfer configs',
    )
    # an exported mmdet backbone fed back in: named as such
    famt_src = str(tmp_path / 'famt.pth')
    tiny_vit_checkpoint(famt_src)
    exported = export_backbone(famt_src, det_cfg, str(tmp_path / 'det.pth')).out
    _refusal(exported, seg_cfg, str(tmp_path / 'out.pth'), 'an already exported mmdet backbone')
    # a ViT without its patch embedding
    partial = torch.load(famt_src, weights_only=True)
    del partial['state_dict']['backbone.patch_embed.projection.weight']
    torch.save(partial, src)
    _refusal(src, det_cfg, str(tmp_path / 'out.pth'), 'lacks patch_embed.projection.weight')
    with open(src, 'wb') as f:
        f.write(b'not a checkpoint')
    _refusal(src, det_cfg, str(tmp_path / 'out.pth'), src)


def test_a_segmentation_config_with_layer_scale_below_one_is_refused(famt, tmp_path):
    cfg = tiny_seg_cfg(None)
    cfg.model.backbone.init_values = 0.1  # mmseg's BEiT default: would damp every pretrained block
    _refusal(famt[0], cfg, str(tmp_path / 'out.pth'), r'layers\.0\.gamma_1 does not start at 1 \(layer scale')


def test_a_config_of_another_codebase_is_refused(famt, det_cfg, tmp_path):
    cfg = det_cfg.copy()
    cfg.default_scope = 'mmpretrain'
    _refusal(famt[0], cfg, str(tmp_path / 'out.pth'), r"target must be one of \['mmdet', 'mmseg'\]")


def test_the_backbones_refuse_a_pretraining_checkpoint_that_was_not_exported(famt, det_cfg, seg_cfg):
    for cfg in (det_cfg, seg_cfg):
        with pytest.raises(ValueError, match='whole-model checkpoint .* export it first'):
            build_target_backbone(cfg, checkpoint=famt[0])


def test_the_mmdet_backbone_refuses_a_checkpoint_missing_a_block(famt, det_cfg, tmp_path):
    out = export_backbone(famt[0], det_cfg, str(tmp_path / 'det.pth')).out
    saved = torch.load(out, weights_only=True)
    del saved['model']['blocks.2.mlp.fc1.weight']
    torch.save(saved, out)
    with pytest.raises(
        ValueError,
        match=r'1 backbone weights would stay uninitialised .*'
        r'blocks\.2\.mlp\.fc1\.weight',
    ):
        build_target_backbone(det_cfg, checkpoint=out)


def test_the_mmdet_backbone_loads_a_checkpoint_in_maes_official_key_names(famt, det_cfg, tmp_path):
    """MAE's released ViT weights use ViTDet's names plus cls_token and the final norm: accepted."""
    state = {vitdet_name(k): v for k, v in backbone_of(famt[1]).items() if not k.startswith('ln1.')}
    state.update(
        {'norm.weight': torch.ones(TINY['embed_dims']), 'norm.bias': torch.zeros(TINY['embed_dims'])}
    )
    path = str(tmp_path / 'mae_official.pth')
    torch.save(dict(model=state), path)
    loaded = build_target_backbone(det_cfg, checkpoint=path).state_dict()
    assert torch.equal(loaded['blocks.0.attn.qkv.weight'], state['blocks.0.attn.qkv.weight'])


def test_the_command_line_tool_reports_and_refuses(famt, tmp_path, capsys):
    tiny = [
        'model.backbone.embed_dims=32',
        'model.backbone.depth=4',
        'model.backbone.num_heads=4',
        'model.backbone.mlp_ratio=2.0',
        'model.backbone.pretrain_img_size=64',
        'model.backbone.global_block_indexes=[1,3]',
        'model.neck.in_channels=32',
    ]
    tool = load_script(EXPORT_TOOL, 'export_backbone_tool')
    out = str(tmp_path / 'det.pth')
    assert tool.main([famt[0], DET_CONFIG, out, '--cfg-options', *tiny]) == 0
    printed = capsys.readouterr().out
    assert 'target mmdet: 51 matched' in printed
    assert '0 missing, 0 unexpected, 0 shape mismatches' in printed
    assert 'not pretrained: 8 x relative position tables' in printed
    assert osp.isfile(out)

    wide = str(tmp_path / 'wide.pth')
    tiny_vit_checkpoint(wide, embed_dims=48, feedforward_channels=96)
    refused = str(tmp_path / 'refused.pth')
    run = subprocess.run(
        [sys.executable, EXPORT_TOOL, wide, DET_CONFIG, refused, '--cfg-options', *tiny],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr[-2000:]
    assert 'export refused' in run.stderr and 'shapes differ' in run.stderr
    assert not osp.exists(refused)


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(depth=0), 'depth must be an integer >= 1'),
        (dict(embed_dims=30, num_heads=4), r'embed_dims \(30\) must be divisible by num_heads \(4\)'),
        (dict(global_block_indexes=(1, 4)), r'global_block_indexes must lie in \[0, 3\], got \[4\]'),
        (dict(drop_path_rate=1.0), r'drop_path_rate must lie in \[0, 1\)'),
    ],
)
def test_bad_plain_vit_settings_raise(kwargs, match):
    from famt_mm.downstream.det import FAMTPlainViT

    with pytest.raises(ValueError, match=match):
        FAMTPlainViT(**{**dict(embed_dims=32, num_heads=4, depth=4, global_block_indexes=(1, 3)), **kwargs})


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(scale_factors=(2.0, 4.0)), 'scale_factors must be distinct values of'),
        (dict(scale_factors=(3.0,)), 'scale_factors must be distinct values of'),
        (dict(num_outs=3), r'num_outs must be >= len\(scale_factors\) = 4'),
        (dict(in_channels=30), 'in_channels must be divisible by 4'),
    ],
)
def test_bad_pyramid_settings_raise(kwargs, match):
    from famt_mm.downstream.det import FAMTSimpleFeaturePyramid

    with pytest.raises(ValueError, match=match):
        FAMTSimpleFeaturePyramid(**{**dict(in_channels=32), **kwargs})


def _tool():
    tool = load_script(EXPORT_TOOL, 'export_backbone_tool')
    return tool


@pytest.mark.parametrize(
    'make_src,message',
    [
        (
            lambda p: p.write_text('epoch: 3\n') and str(p),
            '{src} is not a checkpoint: torch.load cannot read it (IndexError: pop from empty list)',
        ),
        (lambda p: p.write_bytes(b'0.5\n') and str(p), '{src} is not a checkpoint'),
        (lambda p: str(p), '{src}: no such checkpoint file'),
        (lambda p: str(p.parent), '{src} is a directory, not a checkpoint file'),
        (
            lambda p: torch.save({'meta': {'epoch': 1}}, p) or str(p),
            "{src} holds no state dict: no 'state_dict' or 'model' entry and no tensors",
        ),
    ],
)
def test_the_tool_names_a_source_that_is_not_a_checkpoint_and_writes_nothing(
    make_src, message, tmp_path, capsys
):
    (tmp_path / 'src').mkdir()
    src = make_src(tmp_path / 'src' / 'notes.pth')
    out = tmp_path / 'out' / 'det.pth'
    assert _tool().main([src, DET_CONFIG, str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith('export refused: ') and message.format(src=src) in err, err
    assert not (tmp_path / 'out').exists()


def test_the_tool_names_a_missing_config_and_an_output_directory(famt, tmp_path, capsys):
    tool = _tool()
    missing = str(tmp_path / 'nope.py')
    assert tool.main([famt[0], missing, str(tmp_path / 'out.pth')]) == 1
    assert f'{missing}: no such config file' in capsys.readouterr().err
    assert tool.main([famt[0], str(tmp_path), str(tmp_path / 'out.pth')]) == 1
    assert f'{tmp_path} is a directory, not a config file' in capsys.readouterr().err
    assert tool.main([famt[0], DET_CONFIG, str(tmp_path)]) == 1
    assert f'{tmp_path} is a directory: give the output checkpoint file' in capsys.readouterr().err
    assert not (tmp_path / 'out.pth').exists()
