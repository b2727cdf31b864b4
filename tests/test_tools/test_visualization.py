"""FAMT figures: maps and plan, MAE reconstructions, the visualize tool and the training hook."""

import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.runner import Runner
from mmpretrain.registry import MODELS

from famt_mm.core import sample_plan
from famt_mm.testing import DEMO_CONFIG, demo_cfg, load_script, tiny_mae_cfg, vit_simmim_cfg
from famt_mm.utils.configs import find_config
from famt_mm.visualization import PLAN_COLORS, draw_plan, famt_figures, grid_shape, plan_overlay, reconstruct

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout


def _model():
    torch.manual_seed(0)
    model = MODELS.build(tiny_mae_cfg(img_size=16, patch_size=4))
    model.init_weights()
    return model


def _png_size(path):
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert image is not None, f'{path} is not a readable image'
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    return image.shape[:2]


def test_plan_overlay_paints_each_set_in_its_colour():
    image = np.full((4, 4, 3), 100, dtype=np.uint8)
    labels = np.array([[0, 1], [2, 0]])  # visible, masked / thrown, visible
    panel = plan_overlay(image, labels, 8)
    assert panel.shape == (8, 8, 3)
    cells = {
        name: panel[r * 4 + 2, c * 4 + 2].astype(int)
        for name, (r, c) in dict(visible=(0, 0), masked=(0, 1), thrown=(1, 0)).items()
    }
    for name, colour in cells.items():
        # each cell is closest to its own set's colour
        nearest = min(PLAN_COLORS, key=lambda n: np.abs(colour - PLAN_COLORS[n]).sum())
        assert nearest == name, (name, colour)


def test_figures_have_the_layout_sizes_and_leave_state_alone():
    model = _model()
    preprocessor = model.data_preprocessor
    cached = torch.rand(5, 4, 4).half()
    preprocessor.importance_cache.set(cached)
    inputs = torch.randn(2, 3, 16, 16)
    torch.manual_seed(7)
    expected_next = torch.rand(3)
    torch.manual_seed(7)
    figures = famt_figures(model, inputs, panel=40, seed=3)
    assert torch.equal(torch.rand(3), expected_next)  # the caller's random stream is untouched
    assert torch.equal(preprocessor.importance_cache.maps, cached)  # the cache is put back
    assert model.training
    assert len(figures) == 2
    for figure in figures:
        assert figure['maps'].shape == (*grid_shape(1, 5, 40), 3)
        assert figure['reconstruction'].shape == (*grid_shape(2, 3, 40), 3)
    again = famt_figures(model, inputs, panel=40, seed=3)
    assert np.array_equal(again[0]['maps'], figures[0]['maps'])  # seeded plans: same picture


def test_drawn_plan_has_the_generators_counts_and_follows_the_weights():
    model = _model()
    inputs = torch.randn(2, 3, 16, 16)
    weights = torch.full((2, 4, 4), 1e-6)
    weights[:, :2, :] = 1.0  # all weight on the top 8 patches
    plan = draw_plan(model.data_preprocessor, inputs, weights)
    assert plan.masked.shape[1] == 7 and plan.thrown.shape[1] == 6 and plan.visible.shape[1] == 3
    assert (plan.masked < 8).all()  # 7 masked drawn from the 8 heavy patches


def test_reconstruction_keeps_visible_and_thrown_pixels_and_fills_masked_ones():
    model = _model().eval()
    inputs = torch.randn(2, 3, 16, 16)
    plan = sample_plan(torch.rand(2, 16), 0.45, 0.40)
    rebuilt = reconstruct(model, inputs, plan)
    before, after = model.head.patchify(inputs), model.head.patchify(rebuilt)
    kept = torch.cat([plan.visible, plan.thrown], dim=1)
    index = kept[..., None].expand(-1, -1, before.shape[-1])
    assert torch.equal(after.gather(1, index), before.gather(1, index))
    masked = plan.masked[..., None].expand(-1, -1, before.shape[-1])
    assert not torch.allclose(after.gather(1, masked), before.gather(1, masked))


def test_visualize_tool_writes_valid_pngs_of_the_expected_size(tmp_path):
    tool = _visualize_tool()
    image_path = str(tmp_path / 'photo.png')
    cv2.imwrite(image_path, np.random.RandomState(0).randint(0, 255, (50, 70, 3), dtype=np.uint8))
    written = tool.main(
        [
            find_config(DEMO_CONFIG),
            '--images',
            image_path,
            '--out-dir',
            str(tmp_path / 'out'),
            '--panel',
            '64',
        ]
    )
    names = sorted(osp.basename(p) for p in written)
    assert names == ['photo_maps.png', 'photo_reconstruction.png']
    assert _png_size(written[0]) == grid_shape(1, 5, 64)
    assert _png_size(written[1]) == grid_shape(2, 3, 64)
    with pytest.raises(ValueError, match='index 9999 outside the held-out split'):
        tool.main([find_config(DEMO_CONFIG), '--digits', '9999', '--out-dir', str(tmp_path / 'out')])


def _visualize_tool():
    tool = load_script(osp.join(ROOT, 'tools', 'visualize.py'), 'famt_tool_visualize')
    return tool


def _image(tmp_path):
    path = str(tmp_path / 'photo.png')
    cv2.imwrite(path, np.random.RandomState(0).randint(0, 255, (20, 20, 3), dtype=np.uint8))
    return path


@pytest.mark.parametrize(
    'make,message',
    [
        (
            lambda d: d.joinpath('notes.png').write_text('hello') and ['--images', str(d / 'notes.png')],
            '--images: {d}/notes.png is not an image (OpenCV cannot decode it',
        ),
        (lambda d: ['--images', str(d / 'gone.png')], '--images: no such file {d}/gone.png'),
        (lambda d: ['--images', str(d)], '--images: {d} is a directory, not an image'),
        (
            lambda d: d.joinpath('c.pth').write_bytes(b'0.5') and ['--checkpoint', str(d / 'c.pth')],
            '--checkpoint: {d}/c.pth is not a checkpoint: torch.load cannot read it',
        ),
        (lambda d: ['--checkpoint', str(d)], '--checkpoint: {d} is a directory, not a checkpoint'),
        (
            lambda d: torch.save({'meta': {}}, d / 'c.pth') or ['--checkpoint', str(d / 'c.pth')],
            '--checkpoint: {d}/c.pth holds no state dict',
        ),
        (
            lambda d: (
                torch.save({'state_dict': {'backbone.w': torch.zeros(1)}}, d / 'c.pth')
                or ['--checkpoint', str(d / 'c.pth')]
            ),
            '--checkpoint: {d}/c.pth is not a checkpoint of {config}: ',
        ),
    ],
)
def test_visualize_names_an_unusable_input_exits_1_and_writes_nothing(make, message, tmp_path, capsys):
    inputs = tmp_path / 'inputs'
    inputs.mkdir()
    args = make(inputs)
    if '--images' not in args:
        args += ['--images', _image(tmp_path)]
    out = tmp_path / 'out'
    config = find_config(DEMO_CONFIG)
    assert _visualize_tool().cli([config, *args, '--out-dir', str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith('visualize: error: ')
    assert message.format(d=inputs, config=config) in err, err
    assert not out.exists()


def test_visualize_names_a_config_that_is_missing_or_no_famt_config(tmp_path, capsys):
    tool = _visualize_tool()
    image, out = _image(tmp_path), str(tmp_path / 'out')
    assert tool.cli([str(tmp_path / 'gone.py'), '--images', image, '--out-dir', out]) == 1
    assert f'config: no such file {tmp_path}/gone.py' in capsys.readouterr().err
    plain = tmp_path / 'plain.py'
    plain.write_text("model = dict(type='MAE')\n")
    assert tool.cli([str(plain), '--images', image, '--out-dir', out]) == 1
    assert f'{plain}: the config has no FAMTRefreshHook' in capsys.readouterr().err
    assert not osp.exists(out)


def test_visualize_loads_a_checkpoint_of_its_config(tmp_path):
    """The state dict of a model of the config passes the key check and is what the figures use."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    tool = _visualize_tool()
    config = find_config(DEMO_CONFIG)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = tool.build_model(Config.fromfile(config), None, torch.device('cpu'), seed=5)
    path = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, path)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loaded = tool.build_model(Config.fromfile(config), path, torch.device('cpu'), seed=0)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert (
        len(
            tool.main(
                [
                    config,
                    '--checkpoint',
                    path,
                    '--images',
                    _image(tmp_path),
                    '--out-dir',
                    str(tmp_path / 'out'),
                    '--panel',
                    '32',
                ]
            )
        )
        == 2
    )


def test_label_names_the_variant_in_the_captions_only():
    model, inputs = _model(), torch.randn(1, 3, 16, 16)
    plain = famt_figures(model, inputs, panel=40, seed=3)[0]
    named = famt_figures(model, inputs, panel=40, seed=3, label='famt-lowest')[0]
    for kind in ('maps', 'reconstruction'):
        band = slice(0, 4 + 18)  # PAD + CAPTION: the first row's captions
        assert not np.array_equal(named[kind][band], plain[kind][band]), kind
        assert np.array_equal(named[kind][band.stop :], plain[kind][band.stop :]), kind


def _panel(grid, col, panel):
    """The body of the first row's panel ``col`` of a figure grid (PAD 4, caption 18)."""
    left = 4 + col * (panel + 4)
    return grid[4 + 18 : 4 + 18 + panel, left : left + panel]


def test_visualize_variant_changes_the_plan_not_the_maps(tmp_path):
    tool = _visualize_tool()
    image_path = str(tmp_path / 'photo.png')
    cv2.imwrite(image_path, np.random.RandomState(0).randint(0, 255, (50, 70, 3), dtype=np.uint8))
    common = [find_config(DEMO_CONFIG), '--images', image_path, '--out-dir', str(tmp_path), '--panel', '64']
    written = {}
    for options in (
        ['--variant', 'famt'],
        ['--variant', 'famt-lowest'],
        ['--variant', 'famt', '--generator-options', 'throw_mode=lowest'],
    ):
        paths = tool.main(common + options)
        written[' '.join(options)] = cv2.imread(paths[0])
    assert sorted(osp.basename(p) for p in glob.glob(str(tmp_path / 'photo_*.png'))) == [
        'photo_famt-lowest_maps.png',
        'photo_famt-lowest_reconstruction.png',
        'photo_famt-throw_mode-lowest_maps.png',
        'photo_famt-throw_mode-lowest_reconstruction.png',
        'photo_famt_maps.png',
        'photo_famt_reconstruction.png',
    ]
    famt, lowest, option = written.values()
    # same model and seed: the same AMT map, but throwing the lowest weights is another plan ...
    assert np.array_equal(_panel(famt, 1, 64), _panel(lowest, 1, 64))
    assert not np.array_equal(_panel(famt, 4, 64), _panel(lowest, 4, 64))
    # ... the one the generator option draws too
    assert np.array_equal(_panel(lowest, 4, 64), _panel(option, 4, 64))


def test_visualize_cfg_options_reach_the_model(tmp_path):
    """The same fresh X-ViT scored with two readings of its signed attention: other AMT maps."""
    tool = _visualize_tool()
    config = find_config('configs/famt/pretrain/famt-mae_xvit-tiny-p4_1xb64-60e_digits.py')
    common = [config, '--digits', '0', '--panel', '48']
    amt_maps = []
    for reading in ('clip', 'abs'):
        out_dir = str(tmp_path / reading)
        paths = tool.main(
            common + ['--out-dir', out_dir, '--cfg-options', f'model.backbone.score_attention={reading}']
        )
        amt_maps.append(_panel(cv2.imread(paths[0]), 1, 48))
    assert not np.array_equal(*amt_maps)
    with pytest.raises(ValueError, match='score_attention must be one of'):
        tool.main(
            common
            + ['--out-dir', str(tmp_path / 'bad'), '--cfg-options', 'model.backbone.score_attention=nope']
        )
    assert not (tmp_path / 'bad').exists()


def test_visualize_variant_on_a_simmim_config(tmp_path):
    tool = _visualize_tool()
    config = tmp_path / 'tiny_simmim.py'
    pipeline = [dict(type='Resize', scale=(16, 16)), dict(type='PackInputs')]
    config.write_text(
        f'model = {vit_simmim_cfg()!r}\n'
        f"custom_hooks = [dict(type='FAMTRefreshHook', pipeline={pipeline!r})]\n"
    )
    written = tool.main(
        [
            str(config),
            '--digits',
            '0',
            '--variant',
            'amt',
            '--generator-options',
            'throw_mode=lowest',
            '--out-dir',
            str(tmp_path / 'out'),
            '--panel',
            '48',
        ]
    )
    # SimMIM: the maps figure only
    assert [osp.basename(p) for p in written] == ['digit0_amt-throw_mode-lowest_maps.png']
    assert _png_size(written[0]) == grid_shape(1, 5, 48)
    assert tool.fit_caption('amt throw_mode=lowest', 48).endswith('..')


def test_visualize_variant_options_are_checked(tmp_path, capsys):
    tool = _visualize_tool()
    base = [find_config(DEMO_CONFIG), '--digits', '0', '--out-dir', str(tmp_path)]
    with pytest.raises(SystemExit):
        tool.parse_args(base + ['--variant', 'nope'])
    assert "unknown variant 'nope'; known variants: mae, famt, amt" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(base + ['--generator-options', 'lowest'])
    assert 'must look like key=value' in capsys.readouterr().err
    with pytest.raises(ValueError, match='throw_mode must be one of'):
        tool.main(base + ['--generator-options', 'throw_mode=sideways'])


def test_hook_sends_grids_to_the_visualizer_backends(tmp_path):
    cfg = demo_cfg(tmp_path, max_epochs=2, start_epoch=1, interval=5, num_images=32)
    cfg.custom_hooks.append(dict(type='FAMTVisualizationHook', indices=[0, 3], interval=2, panel=32))
    runner = Runner.from_cfg(cfg)
    runner.train()
    files = sorted(glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'vis_image', '*.png')))
    names = [osp.basename(f) for f in files]
    # drawn after epoch 2 only (interval 2)
    assert names == [
        'famt_maps_0_2.png',
        'famt_maps_3_2.png',
        'famt_reconstruction_0_2.png',
        'famt_reconstruction_3_2.png',
    ]
    assert _png_size(files[0]) == grid_shape(1, 5, 32)
    assert _png_size(files[2]) == grid_shape(2, 3, 32)
