"""configs/famt/metafile.yml lists every config, and every entry names a config that exists."""

import glob
import os.path as osp

import pytest
import yaml

from famt_mm.utils.configs import config_root

ROOT = config_root()  # the folder holding famt/ (source checkout or the installed package data)
METAFILE = osp.join(ROOT, 'famt', 'metafile.yml')


def _metafile() -> dict:
    with open(METAFILE, encoding='utf-8') as f:
        return yaml.safe_load(f)


def _path(config: str) -> str:
    """A metafile ``Config`` (``configs/famt/...``, as OpenMMLab writes it) under the config root."""
    assert config.startswith('configs/'), f'Config {config!r} must start with configs/'
    return osp.join(ROOT, config[len('configs/') :])


def _config_files() -> set:
    return {
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'famt', '**', '*.py'), recursive=True)
        if '_base_' not in p
    }


def test_every_config_file_is_listed():
    listed = {osp.relpath(_path(m['Config']), ROOT) for m in _metafile()['Models']}
    missing = sorted(_config_files() - listed)
    assert not missing, f'configs missing from {METAFILE}: {missing}'
    assert len(listed) >= 39


@pytest.mark.parametrize('model', _metafile()['Models'], ids=lambda m: m['Name'])
def test_every_entry_names_an_existing_config(model):
    path = _path(model['Config'])
    assert osp.isfile(path), f'{model["Name"]}: no config {model["Config"]}'
    assert model['Name'] == osp.splitext(osp.basename(path))[0]
    collections = {c['Name'] for c in _metafile()['Collections']}
    assert model['In Collection'] in collections
    metadata = model['Metadata']
    assert {'Training Data', 'Architecture', 'Purpose', 'Batch Size'} <= set(metadata)
    assert ('Epochs' in metadata) != ('Iterations' in metadata)
    # nothing has been trained to the end here: no measured results, no weights
    assert model['Results'] is None and 'Weights' not in model


def test_names_are_unique_and_epochs_match_the_names():
    models = _metafile()['Models']
    names = [m['Name'] for m in models]
    assert len(names) == len(set(names))
    for m in models:
        for part in m['Name'].replace('_', '-').split('-'):
            if part.endswith('e') and part[:-1].isdigit():  # 400e, 100e, 60e: the schedule
                assert m['Metadata']['Epochs'] == int(part[:-1]), m['Name']
