"""Every module famt_mm registers carries a prefix no OpenMMLab package uses (docs/configs.md, "Names"),
so that a later upstream module of the same plain name cannot collide with ours."""

import inspect

import pytest

PREFIXES = ('FAMT', 'AMT', 'Local', 'Sklearn', 'PackFAMT')


def _registries():
    import mmengine.registry as engine_registry
    import mmpretrain.registry as pretrain_registry

    registries = [
        obj
        for module in (engine_registry, pretrain_registry)
        for obj in vars(module).values()
        if isinstance(obj, engine_registry.Registry)
    ]
    for name in ('mmdet.registry', 'mmseg.registry'):
        try:
            module = __import__(name, fromlist=['MODELS'])
        except ImportError:  # the light stack has neither
            continue
        registries += [obj for obj in vars(module).values() if isinstance(obj, engine_registry.Registry)]
    return registries


def famt_registered_names():
    """(registry, name) of every module defined in famt_mm, over mmengine's, mmpretrain's, mmdet's and
    mmseg's registries (with famt_mm's downstream modules imported where those packages are)."""
    import famt_mm  # noqa: F401

    for downstream in ('famt_mm.downstream.det', 'famt_mm.downstream.seg'):
        try:
            __import__(downstream)
        except ImportError:  # mmdet / mmseg not installed (the light stack)
            pass
    found = set()
    for registry in _registries():
        for name, module in registry.module_dict.items():
            defined_in = getattr(inspect.getmodule(module), '__name__', '') or ''
            if defined_in.startswith('famt_mm'):
                found.add((f'{registry.scope}.{registry.name}', name))
    return sorted(found)


def test_famt_registers_modules():
    names = {name for _, name in famt_registered_names()}
    assert {'FAMTMAE', 'FAMTMaskGenerator', 'FAMTRefreshHook', 'SklearnDigits', 'FAMTRunner'} <= names
    pytest.importorskip('mmdet')
    assert {'FAMTPlainViT', 'FAMTSimpleFeaturePyramid'} <= names


@pytest.mark.parametrize('registry,name', famt_registered_names())
def test_registered_name_has_prefix(registry, name):
    assert name.startswith(PREFIXES), (
        f'{name} (registered in {registry}) has none of the prefixes {PREFIXES}: a plain name may collide '
        'with a module an OpenMMLab package adds later'
    )
