"""tools/benchmark.py and famt_benchmarks: measuring helpers, option checks, one tiny end-to-end run.

Only mechanics are tested here; speed is reported by running the tool, never asserted.
"""

import json
import os.path as osp

import pytest
import torch
import torch.nn.functional as F

from famt_benchmarks.measure import count_flops, peak_memory
from famt_benchmarks.step import shrink_model_cfg
from famt_mm.testing import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout

pytestmark = pytest.mark.slow


bench = load_script(osp.join(ROOT, 'tools', 'benchmark.py'), 'famt_tool_benchmark')


def test_flops_of_a_matmul_and_of_cpu_fused_attention_are_counted():
    a, b = torch.randn(8, 16), torch.randn(16, 4)
    assert count_flops(lambda: a @ b) == 2 * 8 * 16 * 4
    q = k = v = torch.randn(2, 3, 10, 8)  # (B, H, S, D)
    # q @ k^T and attn @ v: 2 * (2 B H S S D)
    flops = count_flops(lambda: F.scaled_dot_product_attention(q, k, v))
    assert flops == 4 * 2 * 3 * 10 * 10 * 8


def test_cpu_peak_memory_sees_a_step_allocation():
    def allocate():
        x = torch.ones(64, 2**20)  # 256 MiB, touched
        return float(x[-1, -1])

    mem = peak_memory(allocate, torch.device('cpu'))
    assert mem['peak_bytes'] > 0
    if mem['step_bytes'] is not None:  # Linux: the high-water mark is reset per step
        assert 200 * 2**20 < mem['step_bytes'] < 1024 * 2**20


def test_shrinking_follows_the_options_and_builds():
    from mmpretrain.registry import MODELS

    cfg = dict(
        type='MAE',
        backbone=dict(type='MAEViT', arch='b', patch_size=16),
        neck=dict(
            type='MAEPretrainDecoder',
            embed_dim=768,
            decoder_embed_dim=64,
            decoder_depth=1,
            decoder_num_heads=2,
        ),
        head=dict(
            type='MAEPretrainHead',
            norm_pix=True,
            patch_size=16,
            loss=dict(type='PixelReconstructionLoss', criterion='L2'),
        ),
    )
    shrink_model_cfg(cfg, 'deit-tiny', 64)
    assert cfg['neck']['embed_dim'] == 192 and cfg['neck']['num_patches'] == 16
    model = MODELS.build(cfg)
    assert model.backbone.embed_dims == 192 and model.backbone.patch_resolution == (4, 4)
    with pytest.raises(ValueError, match='--img-size must be a multiple of the patch size 16'):
        shrink_model_cfg(cfg, 'deit-tiny', 70)
    # FAMT's decoder passes its stock base's arguments on through **kwargs: they are followed too
    import famt_mm  # noqa: F401

    famt = dict(
        cfg,
        type='FAMTMAE',
        backbone=dict(type='FAMTMAEViT', arch='b', patch_size=16),
        neck=dict(cfg['neck'], type='FAMTMAEPretrainDecoder', embed_dim=768),
    )
    shrink_model_cfg(famt, 'deit-tiny', 64)
    assert famt['neck']['embed_dim'] == 192


def test_tiny_run_writes_every_figure(tmp_path, capsys):
    out = tmp_path / 'bench.json'
    # 96 px: SimMIM's 3x3 units of 32 px leave visible units under its rounding up (2x2 would not)
    results = bench.main(
        [
            '--arch',
            'deit-tiny',
            '--img-size',
            '96',
            '--batch-size',
            '2',
            '--iters',
            '2',
            '--warmup',
            '1',
            '--device',
            'cpu',
            '--out',
            str(out),
            '--max-time-ratio',
            '1e6',
            '--min-refresh-ratio',
            '1e6',
        ]
    )
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    r = results['pairs']['mae']
    base, famt = r['methods'][r['baseline']], r['methods'][r['famt']]
    # 36 patches: FAMT-MAE's encoder sees 6 (MAE 9), its decoder 6 + 16 masked (MAE all 36)
    assert 0 < famt['train_step_flops'] < base['train_step_flops']
    assert r['flops_ratio'] == pytest.approx(famt['train_step_flops'] / base['train_step_flops'])
    for m in (base, famt):
        assert m['step_time']['n'] == 2 and m['step_time']['median_s'] > 0
        assert m['memory']['peak_bytes'] > 0
    medians = famt['step_time']['median_s'], base['step_time']['median_s']
    assert r['time_ratio'] == pytest.approx(medians[0] / medians[1])
    # scoring materialises the last block's attention on top of plain inference: more FLOPs
    assert r['refresh']['scoring']['flops'] > r['refresh']['plain_inference']['flops'] > 0
    assert r['refresh']['ratio'] > 0
    assert 0 < r['preprocessor']['share_of_famt_step'] < 1
    # only the bounds given are checked: one that any run meets, one that none does
    assert results['limits'] == {'max-time-ratio': 1e6, 'min-refresh-ratio': 1e6}
    assert [(c['figure'], c['met']) for c in r['limits']] == [
        ('step time ratio', True),
        ('refresh scoring / plain inference images/s', False),
    ]
    # FAMT-SimMIM throws 3 of 9 units of 2x2 patches: its encoder sees 25 of 37 tokens
    simmim = results['pairs']['simmim']
    base, famt = simmim['methods'][simmim['baseline']], simmim['methods'][simmim['famt']]
    assert 0 < famt['train_step_flops'] < base['train_step_flops']
    table = capsys.readouterr().out
    assert '| train-step GFLOPs |' in table
    assert 'limits: step time ratio' in table and ': MISSED' in table and ': met' in table


def test_attention_pairs_compare_vit_with_xvit_and_time_both_refreshes(tmp_path, capsys):
    results = bench.main(
        [
            '--arch',
            'deit-tiny',
            '--img-size',
            '32',
            '--batch-size',
            '2',
            '--iters',
            '1',
            '--warmup',
            '0',
            '--device',
            'cpu',
            '--pairs',
            'xvit-mae',
            'xvit-famt',
            '--out',
            str(tmp_path / 'bench.json'),
        ]
    )
    mae, famt = results['pairs']['xvit-mae'], results['pairs']['xvit-famt']
    for r in (mae, famt):
        assert r['ratio_name'] == 'X-ViT / ViT' and 'limits' not in r
        assert 'X-ViT' in r['famt'] and 'X-ViT' not in r['baseline']
        # the same model but the attention: nearly the same FLOPs (X-ViT's linear products instead)
        assert 0.9 < r['flops_ratio'] < 1.1 and r['flops_ratio'] != 1
    # random masking scores nothing; the guided pair times both sides' refresh scoring
    assert 'refresh' not in mae and 'preprocessor' not in mae
    assert famt['refresh_time_ratio'] == pytest.approx(
        famt['refresh_baseline']['scoring']['images_per_s'] / famt['refresh']['scoring']['images_per_s']
    )
    table = capsys.readouterr().out
    assert '| X-ViT / ViT |' in table and 'refresh scoring time per image, X-ViT / ViT' in table
