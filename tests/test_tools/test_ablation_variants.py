"""The variant registry of the accuracy-for-time tool and its command-line checks (no training)."""

import os.path as osp

import pytest
from mmengine.config import Config

from famt_benchmarks.accuracy_for_time import (
    VARIANT_GROUPS,
    VARIANTS,
    Variant,
    apply_variant,
    build_generator,
    generator_cfg,
    parse_overrides,
    parse_variant,
    resolve_variants,
    set_refresh,
    split_top_level,
    variant_config,
    variant_generator,
)
from famt_mm.testing import DEMO_CONFIG, load_script
from famt_mm.utils.configs import find_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout
SIMMIM_CONFIG = 'famt/pretrain/famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py'

tool = load_script(osp.join(ROOT, 'tools', 'demo_accuracy_for_time.py'), 'famt_tool_aft_variants')

FAMT = dict(
    mask_ratio=0.45,
    throw_ratio=0.40,
    warmup_mask_ratio=0.75,
    count_rounding='floor_cumulative',
    throw_mode='middle',
    weight_source='fused',
    attention_terms=('cls', 'img'),
    frequency_filter='lowpass',
    sigma_ratio=0.075,
)
#: variant name -> the generator type and settings its name promises (on the demo config)
EXPECTED = {
    'mae': (
        'FAMTRandomMaskGenerator',
        dict(mask_ratio=0.75, throw_ratio=0.0, count_rounding='floor_cumulative'),
    ),
    'famt': ('FAMTMaskGenerator', FAMT),
    'amt': (
        'AMTMaskGenerator',
        {
            k: FAMT[k]
            for k in ('mask_ratio', 'throw_ratio', 'warmup_mask_ratio', 'count_rounding', 'throw_mode')
        },
    ),
    'famt-nothrow': ('FAMTMaskGenerator', dict(FAMT, throw_mode='off', throw_ratio=0.0)),
    'famt-frequency': ('FAMTMaskGenerator', dict(FAMT, weight_source='frequency')),
    'famt-attention': ('FAMTMaskGenerator', dict(FAMT, weight_source='attention')),
    'famt-lowest': ('FAMTMaskGenerator', dict(FAMT, throw_mode='lowest')),
    'famt-cls': ('FAMTMaskGenerator', dict(FAMT, attention_terms=('cls',))),
    'famt-img': ('FAMTMaskGenerator', dict(FAMT, attention_terms=('img',))),
    'famt-symmetric': ('FAMTMaskGenerator', dict(FAMT, frequency_filter='lowpass_symmetric')),
    'famt-nofilter': ('FAMTMaskGenerator', dict(FAMT, frequency_filter='none')),
    # on the SparK ConvNeXt demo config
    'spark-random': (
        'FAMTRandomMaskGenerator',
        dict(mask_ratio=0.6, throw_ratio=0.0, count_rounding='floor_cumulative'),
    ),
    'spark-famt': (
        'FAMTMaskGenerator',
        dict(
            FAMT,
            mask_ratio=0.6,
            throw_ratio=0.0,
            warmup_mask_ratio=0.6,
            throw_mode='off',
            weight_source='frequency',
        ),
    ),
    'spark-untrained': (
        'FAMTRandomMaskGenerator',
        dict(mask_ratio=0.6, throw_ratio=0.0, count_rounding='floor_cumulative'),
    ),
    # FAMT-MAE as configured, on the X-ViT and matrix-activation demo configs
    'famt-xvit': ('FAMTMaskGenerator', FAMT),
    'famt-matact': ('FAMTMaskGenerator', FAMT),
    'famt-xvit-clip': ('FAMTMaskGenerator', FAMT),
    'famt-xvit-shift': ('FAMTMaskGenerator', FAMT),
    'famt-xvit-abs': ('FAMTMaskGenerator', FAMT),
    # the cluttered benchmark's controls (oracles swap the refresh hook for FAMTObjectOracleHook)
    'oracle-mask': ('FAMTMaskGenerator', FAMT),
    'oracle-throw': ('FAMTMaskGenerator', dict(FAMT, throw_mode='lowest')),
    'random-counts': (
        'FAMTRandomMaskGenerator',
        dict(mask_ratio=0.45, throw_ratio=0.40, count_rounding='floor_cumulative'),
    ),
    'untrained': (
        'FAMTRandomMaskGenerator',
        dict(mask_ratio=0.75, throw_ratio=0.0, count_rounding='floor_cumulative'),
    ),
}
#: variants that draw uniformly, so the tool drops the refresh hook
RANDOM = ('mae', 'spark-random', 'spark-untrained', 'random-counts', 'untrained')


def _demo():
    return Config.fromfile(find_config(DEMO_CONFIG))


def _built(cfg):
    return build_generator(generator_cfg(cfg)['mask_generator'])


def test_every_variant_is_specified_here():
    assert set(EXPECTED) == set(VARIANTS)


@pytest.mark.parametrize('name', list(EXPECTED))
def test_each_variant_builds_the_generator_its_name_says(name):
    cfg = Config.fromfile(find_config(variant_config(VARIANTS[name], 'digits', DEMO_CONFIG)))
    apply_variant(cfg, VARIANTS[name])
    generator = _built(cfg)
    kind, settings = EXPECTED[name]
    assert type(generator).__name__ == kind
    assert generator.settings() == settings
    hooks = [h['type'] for h in cfg.custom_hooks]
    # only random masking goes without the refresh hook (it would score for nothing); the oracles
    # fill the maps from the true object masks instead of scoring
    assert ('FAMTRefreshHook' in hooks) == (name not in RANDOM and not VARIANTS[name].oracle)
    assert ('FAMTObjectOracleHook' in hooks) == VARIANTS[name].oracle
    assert 'FAMTLinearProbeHook' in hooks


def test_the_ablation_group_is_the_issues_list():
    assert VARIANT_GROUPS['ablation'] == [
        'mae',
        'amt',
        'famt',
        'famt-nothrow',
        'famt-frequency',
        'famt-lowest',
    ]
    assert resolve_variants(['default']) == ['mae', 'famt']
    assert resolve_variants(['famt', 'ablation', 'famt-cls']) == [
        'famt',
        'mae',
        'amt',
        'famt-nothrow',
        'famt-frequency',
        'famt-lowest',
        'famt-cls',
    ]


def test_a_type_switch_keeps_the_configs_ratios_and_rounding():
    # on a SimMIM config, AMT keeps its 0.44 / 0.26 and ceil rounding; random masking keeps the
    # rounding and drops the warm-up ratio, which it does not take
    cfg = Config.fromfile(find_config(SIMMIM_CONFIG))
    apply_variant(cfg, VARIANTS['amt'])
    amt = _built(cfg)
    assert (
        type(amt).__name__,
        amt.mask_ratio,
        amt.throw_ratio,
        amt.count_rounding,
        amt.warmup_mask_ratio,
    ) == ('AMTMaskGenerator', 0.44, 0.26, 'ceil_each', 0.44)
    cfg = Config.fromfile(find_config(SIMMIM_CONFIG))
    apply_variant(cfg, VARIANTS['mae'])
    assert generator_cfg(cfg)['mask_generator'] == dict(
        type='FAMTRandomMaskGenerator', mask_ratio=0.75, throw_ratio=0.0, count_rounding='ceil_each'
    )
    # an override the new type does not take is passed on, so its constructor refuses it
    gen = variant_generator(
        dict(type='FAMTMaskGenerator'), dict(type='FAMTRandomMaskGenerator', throw_mode='lowest')
    )
    with pytest.raises(TypeError, match='throw_mode'):
        build_generator(gen)


def test_overrides_and_custom_variants_parse_literals():
    assert split_top_level("a=1,b=('cls', 'img'),c=x") == ['a=1', "b=('cls', 'img')", 'c=x']
    assert parse_overrides(['sigma_ratio=0.15', 'throw_mode=lowest', "attention_terms=('img',)"]) == dict(
        sigma_ratio=0.15, throw_mode='lowest', attention_terms=('img',)
    )
    name, variant = parse_variant("sym=frequency_filter=lowpass_symmetric,attention_terms=('cls',)")
    assert name == 'sym'
    assert variant.generator == dict(frequency_filter='lowpass_symmetric', attention_terms=('cls',))
    assert variant.label.startswith('sym (')
    for bad in ('sym', 'sym=', '=a=1', 'sym=lowest'):
        with pytest.raises(ValueError, match='key=value'):
            parse_variant(bad)


def test_refresh_schedule_option_sets_the_hook():
    cfg = _demo()
    set_refresh(cfg, 8, None)
    hook = next(h for h in cfg.custom_hooks if h['type'] == 'FAMTRefreshHook')
    assert (hook['start_epoch'], hook['interval']) == (8, 20)
    set_refresh(cfg, None, 4)
    assert (hook['start_epoch'], hook['interval']) == (8, 4)


def test_command_resolves_variants():
    assert tool.parse_args([]).names == ['mae', 'famt']
    assert tool.parse_args(['--variants', 'ablation']).names == VARIANT_GROUPS['ablation']
    args = tool.parse_args(
        [
            '--variants',
            'famt',
            '--variant',
            'wide=sigma_ratio=0.15',
            '--epochs',
            '4',
            '--refresh-start',
            '2',
            '--refresh-interval',
            '1',
        ]
    )
    assert args.names == ['famt', 'wide']
    assert args.known['wide'] == Variant(args.known['wide'].label, dict(sigma_ratio=0.15))
    assert tool.parse_args(['--variant', 'wide=sigma_ratio=0.15']).names == ['wide']


@pytest.mark.parametrize(
    'argv,message',
    [
        (
            ['--variants', 'famt', 'bogus'],
            "unknown variant 'bogus'; known variants: mae, famt, amt, famt-nothrow",
        ),
        (['--variant', 'x=throw_mode=sideways'], "variant 'x': throw_mode must be one of"),
        (['--variant', 'x=throw_mode=off'], "variant 'x': throw_mode='off' throws nothing"),
        (['--variant', 'famt=sigma_ratio=0.1'], "'famt' is already a registered variant"),
        (['--variant', 'x'], 'NAME=key=value'),
        (['--variants'], 'no variants to run'),
        (['--refresh-start', '-1'], '--refresh-start must be >= 0, got -1'),
        (['--refresh-interval', '0'], '--refresh-interval must be >= 1, got 0'),
        (['--seeds', '0', '0'], '--seeds must be distinct'),
    ],
)
def test_command_refuses_bad_options_with_a_clear_error(argv, message, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(argv)
    assert message in capsys.readouterr().err


def test_list_names_every_variant_and_group(capsys):
    assert tool.main(['--list']) == {}
    out = capsys.readouterr().out
    for name in list(VARIANTS) + list(VARIANT_GROUPS):
        assert f'\n{name} ' in f'\n{out}'


@pytest.mark.parametrize('rows', ['clip', 'shift', 'abs'])
def test_xvit_reading_variants_set_the_backbone_and_build(rows):
    from mmpretrain.registry import MODELS

    variant = VARIANTS[f'famt-xvit-{rows}']
    cfg = Config.fromfile(find_config(variant.config))
    apply_variant(cfg, variant)
    assert cfg.model.backbone.score_attention == rows
    model_cfg = cfg.model.to_dict()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor.to_dict())
    assert MODELS.build(model_cfg).backbone.score_attention == rows
    assert tool.parse_args(['--variants', 'xvit-rows']).names == VARIANT_GROUPS['xvit-rows']
