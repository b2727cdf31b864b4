"""Every knob a config holds reaches the model, hooks, pipelines and schedule that use it.

mmengine evaluates a base config's dicts with the base's values, so a child config that changes a knob
without restating the dicts using it silently trains with the old value. The checker
(``knob_check.py``) is driven by the knobs each config defines; the last tests show that it reports a
knob changed without restating, for each kind of knob.
"""
import ast
import glob
import importlib.util
import os.path as osp

import pytest
from knob_check import KNOWN, UNCHECKED, check_knobs, knob_uses, own_knobs
from mmengine.config import Config

from famt_mm.utils.configs import config_root

FAMT = osp.join(config_root(), 'famt')
CONFIGS = sorted(p for p in glob.glob(osp.join(FAMT, '**', '*.py'), recursive=True)
                 if '_base_' not in p)


def _id(path: str) -> str:
    return osp.relpath(path, FAMT)


def _needs(path: str) -> None:
    """Skip a config whose bases come from a package that is not installed (the light demo stack)."""
    with open(path, encoding='utf-8') as f:
        bases = [ast.literal_eval(node.value) for node in ast.parse(f.read()).body
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == '_base_']
    for base in [b for group in bases for b in ([group] if isinstance(group, str) else group)]:
        package, sep, _ = base.partition('::')
        if sep and importlib.util.find_spec(package) is None:
            pytest.skip(f'{package} is not installed')
        if not sep:
            _needs(osp.join(osp.dirname(path), base))


_CACHE = {}


def _load(path: str) -> Config:
    if path not in _CACHE:
        _needs(path)
        _CACHE[path] = Config.fromfile(path)
    return _CACHE[path]


def test_the_glob_finds_every_group():
    groups = {_id(p).split(osp.sep)[0] for p in CONFIGS}
    assert {'pretrain', 'benchmarks', 'downstream', 'mae_vitb_in1k.py'} <= groups
    assert sum(_id(p).startswith('pretrain') for p in CONFIGS) >= 20


@pytest.mark.parametrize('path', CONFIGS, ids=_id)
def test_knobs_reach_the_dicts_that_use_them(path):
    cfg = _load(path)
    problems = check_knobs(cfg)
    assert not problems, f'{_id(path)}: knobs changed without restating the dicts using them:\n' + \
        '\n'.join(problems)


@pytest.mark.parametrize('path', CONFIGS, ids=_id)
def test_every_own_knob_is_checked_and_used(path):
    """A knob the file assigns has a rule (or a reason in UNCHECKED) and at least one use."""
    with open(path, encoding='utf-8') as f:
        knobs = own_knobs(f.read())
    unknown = sorted(set(knobs) - KNOWN)
    assert not unknown, f'{_id(path)}: no rule in knob_check.RULES for {unknown}'
    uses = knob_uses(_load(path))
    unused = [k for k in knobs if k not in UNCHECKED
              and not any(k in name.split(' + ') and found for name, found in uses.items())]
    assert not unused, f'{_id(path)}: knobs that nothing uses: {unused}'


def test_pretraining_configs_check_the_main_knobs():
    """The checker really looks at the FAMT knobs of the published runs."""
    cfg = _load(osp.join(FAMT, 'pretrain', 'famt-mae_vit-base-p6_1xb256-amp-coslr-400e_stl10.py'))
    where = {w for uses in knob_uses(cfg).values() for w, _, _ in uses}
    assert {
        'data_preprocessor.mask_generator.mask_ratio',
        'data_preprocessor.mask_generator.throw_ratio',
        'custom_hooks.0(FAMTRefreshHook).start_epoch',
        'custom_hooks.0(FAMTRefreshHook).interval',
        'custom_hooks.0(FAMTRefreshHook).batch_size',
        'custom_hooks.0(FAMTRefreshHook).pipeline.0(Resize).scale',
        'train_dataloader.dataset.pipeline.0(RandomResizedCropWithBox).scale',
        'model.backbone.img_size', 'model.backbone.patch_size', 'model.neck.num_patches',
        'train_cfg.max_epochs', 'param_scheduler.-1.end', 'train_dataloader.batch_size',
    } <= where


P = 'pretrain/famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py'
HOOK = 'custom_hooks.0(FAMTRefreshHook)'
BROKEN_CHILDREN = [
    (P, 'img_size = 48', ['model.backbone.img_size', 'model.neck.num_patches',
                          'train_dataloader.dataset.pipeline.0(RandomResizedCropWithBox).scale',
                          f'{HOOK}.pipeline.0(Resize).scale']),
    (P, 'patch_size = 4', ['data_preprocessor.patch_size', 'model.backbone.patch_size',
                           'model.neck.patch_size', 'model.head.patch_size', 'model.neck.num_patches']),
    (P, 'mask_ratio = 0.5', ['data_preprocessor.mask_generator.mask_ratio']),
    (P, 'throw_ratio = 0.3', ['data_preprocessor.mask_generator.throw_ratio']),
    (P, 'warmup_mask_ratio = 0.6', ['data_preprocessor.mask_generator.warmup_mask_ratio']),
    (P, 'refresh_start_epoch = 20', [f'{HOOK}.start_epoch']),
    (P, 'refresh_interval = 20', [f'{HOOK}.interval']),
    (P, 'refresh_batch_size = 64', [f'{HOOK}.batch_size']),
    (P, 'max_epochs = 800', ['train_cfg.max_epochs', 'param_scheduler.-1.end',
                             'param_scheduler.1(CosineAnnealingLR).T_max']),
    (P, 'warmup_epochs = 20', ['param_scheduler.0(LinearLR).end',
                               'param_scheduler.1(CosineAnnealingLR).begin']),
    (P, 'batch_size = 128', ['train_dataloader.batch_size']),
    (P, 'lr = 3e-4', ['optim_wrapper.optimizer.lr']),
    (P, "data_root = 'data/elsewhere'", ['train_dataloader.dataset.data_root']),
    (P, "mask_generator = dict(type='AMTMaskGenerator')", ['data_preprocessor.mask_generator']),
    ('pretrain/famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py', 'unit_size = 16',
     ['data_preprocessor.unit_size']),
    ('pretrain/famt-mae_vit-tiny-p4_1xb64-60e_digits.py', 'img_size = 64',
     ['train_dataloader.dataset.pipeline.0(Resize).scale',
      'custom_hooks.1(LinearProbeHook).test_dataloader.dataset.pipeline.0(Resize).scale']),
    ('benchmarks/vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py', 'num_classes = 20',
     ['data_preprocessor.num_classes', 'model.head.num_classes']),
    ('benchmarks/vit-base-p2_1xb256-coslr-100e_cifar10.py', 'layer_decay_rate = 0.5',
     ['optim_wrapper.paramwise_cfg.layer_decay_rate']),
    ('benchmarks/vit-base-p2_1xb256-coslr-100e_cifar10.py', 'pad_val = [0, 0, 0]',
     ['train_dataloader.dataset.pipeline.2(RandAugment).pad_val']),
    ('benchmarks/vit-base-p2_1xb256-coslr-100e_cifar10.py', "test_split = 'train'",
     ['val_dataloader.dataset.split', 'test_dataloader.dataset.split']),
    ('downstream/mask-rcnn_vit-b-p16-famt-mae_lsj-100e_coco.py', 'repeat_times = 2',
     ['train_dataloader.dataset.times']),
]


@pytest.mark.parametrize('base,change,reported', BROKEN_CHILDREN,
                         ids=[f'{osp.basename(b)}:{c.split(" =")[0]}' for b, c, _ in BROKEN_CHILDREN])
def test_a_knob_changed_without_restating_is_reported(tmp_path, base, change, reported):
    base = osp.join(FAMT, base)
    _needs(base)
    child = tmp_path / 'child.py'
    child.write_text(f'_base_ = {base!r}\n{change}\n')
    problems = check_knobs(Config.fromfile(str(child)))
    knob = change.split(' =')[0]
    for where in reported:
        assert any(knob in p.split(':')[0].split(' + ') and f' {where} is ' in p for p in problems), \
            f'{where} not reported for {change!r}; reported: {problems}'


def test_a_child_that_restates_passes(tmp_path):
    """The same change with the dicts restated is accepted (the checker does not cry wolf)."""
    base = osp.join(FAMT, P)
    child = tmp_path / 'child.py'
    child.write_text(
        f'_base_ = {base!r}\n'
        'refresh_interval = 20\n'
        'mask_ratio = 0.5\n'
        "mask_generator = dict(type='FAMTMaskGenerator', mask_ratio=mask_ratio, throw_ratio=0.40,\n"
        '                      warmup_mask_ratio=0.75)\n'
        'data_preprocessor = dict(mask_generator=mask_generator)\n'
        'score_pipeline = [dict(type="Resize", scale=(32, 32), backend="pillow", '
        'interpolation="bicubic"), dict(type="PackInputs")]\n'
        'custom_hooks = [dict(type="FAMTRefreshHook", pipeline=score_pipeline, start_epoch=40,\n'
        '                     interval=refresh_interval, batch_size=1024)]\n')
    assert check_knobs(Config.fromfile(str(child))) == []
