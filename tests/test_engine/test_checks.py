"""The refresh hook's early checks and the helpers the hooks share, without a Runner."""

import random

import numpy as np
import pytest
import torch
from mmengine.dataset import BaseDataset

from famt_mm.engine import FAMTRefreshHook, FAMTVisualizationHook
from famt_mm.engine.checks import (
    check_view_metainfo,
    derive_scoring_pipeline,
    resolve_epochs,
    train_log_epoch,
)
from famt_mm.engine.utils import first_sample, kept_random_state, unwrap_model, whole_image_dataset


def test_epochs_are_worded_as_the_train_log_counts_them():
    assert train_log_epoch(0) == 'epoch 1 (1-based, as the train log)'
    assert train_log_epoch(40) == 'epoch 41 (1-based, as the train log)'


def test_a_view_without_crop_box_names_both_transforms():
    with pytest.raises(
        ValueError, match="records no crop_box.*FAMTRandomResizedCropWithBox.*dict\\(type='PackFAMTInputs'\\)"
    ):
        check_view_metainfo(dict(sample_idx=0))
    with pytest.raises(ValueError, match='packs no sample_idx.*PackFAMTInputs'):
        check_view_metainfo(dict(crop_box=np.zeros(4)))
    check_view_metainfo(dict(sample_idx=0, crop_box=np.zeros(4)))  # nothing to say


def test_the_scoring_pipeline_is_the_loading_a_resize_to_the_view_and_the_packer():
    train = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(40, 40)),
        dict(type='FAMTRandomResizedCropWithBox', scale=24, backend='pillow', interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackFAMTInputs'),
    ]
    derived = derive_scoring_pipeline(train, (16, 24))
    assert derived == [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(40, 40)),
        dict(type='Resize', scale=(24, 16), backend='pillow', interpolation='bicubic'),
        dict(type='PackInputs'),
    ]  # scale is (width, height)


@pytest.mark.parametrize(
    'pipeline,match',
    [
        (
            [
                dict(type='LoadImageFromFile'),
                dict(type='RandomResizedCrop', scale=8),
                dict(type='PackInputs'),
            ],
            'has none of',
        ),
        (
            [
                dict(type='LoadImageFromFile'),
                dict(type='ColorJitter', brightness=0.4),
                dict(type='FAMTRandomResizedCropWithBox', scale=8),
                dict(type='PackFAMTInputs'),
            ],
            r"has \['ColorJitter'\] before its crop",
        ),
        (
            [
                dict(type='RandomFlip'),
                dict(type='FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox', size=8),
            ],
            'two pictures per crop',
        ),
    ],
)
def test_where_the_rule_does_not_fit_the_pipeline_must_be_given(pipeline, match):
    with pytest.raises(ValueError, match=match + r'.*give FAMTRefreshHook\(pipeline=\[...\]\) explicitly'):
        derive_scoring_pipeline(pipeline, (8, 8))


def test_epoch_settings_are_whole_epochs_or_fractions_of_the_schedule():
    assert resolve_epochs(40, 400, 'start_epoch', 0) == 40
    assert resolve_epochs(0.1, 400, 'start_epoch', 0) == 40
    assert resolve_epochs(0.1, 800, 'interval', 1) == 80
    assert resolve_epochs(0.01, 20, 'interval', 1) == 1  # never below the smallest count
    assert resolve_epochs(0, 20, 'start_epoch', 0) == 0
    for value, match in (
        (1.0, r'in \(0, 1\)'),
        (-1, 'integer >= 0'),
        ('0.1', 'integer >= 0'),
        (True, 'integer >= 0'),
    ):
        with pytest.raises(ValueError, match=f'start_epoch.*{match}'):
            resolve_epochs(value, 20, 'start_epoch', 0)


class _Numbers(BaseDataset):
    def load_data_list(self):
        return [dict(value=i) for i in range(3)]


def _draw(results):
    results['inputs'] = torch.full((1, 2, 2), float(np.random.rand()))
    return results


def test_whole_image_dataset_swaps_the_pipeline_of_a_copy_only():
    dataset = _Numbers(pipeline=[_draw])
    whole = whole_image_dataset(dataset, [lambda r: dict(r, inputs=torch.zeros(1, 4, 4))], 'Me')
    assert whole[1]['inputs'].shape == (1, 4, 4) and dataset[1]['inputs'].shape == (1, 2, 2)
    assert whole.data_list is dataset.data_list  # annotations are shared, not copied
    with pytest.raises(TypeError, match="Me replaces the training dataset's pipeline, but list"):
        whole_image_dataset([], [], 'Me')


def test_first_sample_leaves_the_random_streams_alone():
    dataset = _Numbers(pipeline=[_draw])
    np.random.seed(3)
    random.seed(3)
    torch.manual_seed(3)
    expected = (np.random.rand(), random.random(), torch.rand(1))
    np.random.seed(3)
    random.seed(3)
    torch.manual_seed(3)
    inputs, metainfo = first_sample(dataset)
    assert inputs.shape == (1, 2, 2) and metainfo == {}
    with kept_random_state():
        torch.rand(5)
    assert (np.random.rand(), random.random(), torch.rand(1)) == expected


def test_unwrap_model_takes_the_module_out_of_a_wrapper():
    module = torch.nn.Linear(1, 1)

    class Runner:
        model = module

    assert unwrap_model(Runner) is module
    Runner.model = torch.nn.DataParallel(module)  # a wrapper mmengine registers; no GPU needed
    assert unwrap_model(Runner) is module


@pytest.mark.parametrize(
    'hook,kwargs,match',
    [
        (FAMTRefreshHook, dict(start_epoch=-1), 'start_epoch must be an integer >= 0'),
        (FAMTRefreshHook, dict(start_epoch=1.5), r'start_epoch as a fraction of the schedule.*\(0, 1\)'),
        (FAMTRefreshHook, dict(interval=0), 'interval must be an integer >= 1'),
        (FAMTRefreshHook, dict(pipeline=[]), 'pipeline must list'),
        (FAMTVisualizationHook, dict(interval=0), 'interval must be an integer >= 1'),
        (FAMTVisualizationHook, dict(panel=8), 'panel must be an integer >= 16'),
        (FAMTVisualizationHook, dict(indices=[-1]), 'indices must be non-negative integers'),
        (FAMTVisualizationHook, dict(pipeline=[]), 'pipeline must list'),
    ],
)
def test_bad_hook_settings_raise_when_the_hook_is_built(hook, kwargs, match):
    with pytest.raises(ValueError, match=match):
        hook(**{'pipeline': [dict(type='PackInputs')], **kwargs})
