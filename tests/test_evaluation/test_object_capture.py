"""Object capture measures on hand-made maps with known figures, and the hooks' fast paths."""

import logging
import math
from types import SimpleNamespace

import pytest
import torch

from famt_mm.core import (
    MaskPlan,
    object_auc,
    object_lift,
    object_patches,
    patch_coverage,
    plan_object_counts,
    plan_object_shares,
)
from famt_mm.engine import FAMTFewLabelEvalHook, FAMTObjectCaptureHook, FAMTObjectOracleHook
from famt_mm.engine.few_label_hook import image_features, knn_top1, random_shifts

OBJ = torch.tensor([[True, False, False, False]])


def test_a_map_that_ranks_the_object_first_scores_auc_one_and_the_reverse_zero():
    assert object_auc(torch.tensor([[2.0, 1.0, 1.0, 0.0]]), OBJ).item() == 1.0
    assert object_auc(torch.tensor([[0.0, 1.0, 1.0, 2.0]]), OBJ).item() == 0.0


def test_ties_count_half_and_a_constant_map_is_chance():
    # object weight 1 against background 1 (tie), 0, 0: (0.5 + 1 + 1) / 3
    assert object_auc(torch.tensor([[1.0, 1.0, 0.0, 0.0]]), OBJ).item() == pytest.approx(2.5 / 3)
    assert object_auc(torch.ones(1, 4), OBJ).item() == 0.5
    assert object_lift(torch.ones(1, 4), OBJ).item() == pytest.approx(1.0)


def test_lift_is_the_weight_share_over_the_area_share():
    # share on the object 2 / 4 = 0.5, area 1 / 4: lift 2
    assert object_lift(torch.tensor([[2.0, 1.0, 1.0, 0.0]]), OBJ).item() == pytest.approx(2.0)
    # two object patches of six holding 3 of 6: share 0.5, area 1/3, lift 1.5
    objects = torch.tensor([[True, True, False, False, False, False]])
    lift = object_lift(torch.tensor([[2.0, 1.0, 1.0, 1.0, 1.0, 0.0]]), objects)
    assert lift.item() == pytest.approx(1.5)


def test_measures_are_undefined_without_object_or_background():
    weights = torch.rand(3, 4)
    objects = torch.tensor([[False] * 4, [True] * 4, [True, False, True, False]])
    auc, lift = object_auc(weights, objects), object_lift(weights, objects)
    assert math.isnan(auc[0]) and math.isnan(auc[1]) and not math.isnan(auc[2])
    assert math.isnan(lift[0]) and math.isnan(lift[1]) and not math.isnan(lift[2])


def test_patch_coverage_and_object_patches_on_a_known_mask():
    mask = torch.zeros(1, 4, 4, dtype=torch.uint8)
    mask[0, 0, 0] = 1  # 1 of the 4 pixels of patch (0, 0)
    mask[0, 2:, 2:] = 1  # all of patch (1, 1)
    cover = patch_coverage(mask, (2, 2))
    assert cover.tolist() == [[[0.25, 0.0], [0.0, 1.0]]]
    assert object_patches(cover, 0.3).tolist() == [[[False, False], [False, True]]]
    assert object_patches(cover, 0.25).tolist() == [[[True, False], [False, True]]]
    with pytest.raises(ValueError, match=r'threshold must lie in \(0, 1\]'):
        object_patches(cover, 0.0)


def test_plan_shares_count_object_patches_per_group():
    plan = MaskPlan(visible=torch.tensor([[3]]), masked=torch.tensor([[0, 1]]), thrown=torch.tensor([[2]]))
    objects = torch.tensor([[True, False, False, True]])
    assert plan_object_counts(plan, objects) == {
        'visible': (1, 1),
        'masked': (1, 2),
        'thrown': (0, 1),
        'all': (2, 4),
    }
    assert plan_object_shares(plan, objects) == {'visible': 1.0, 'masked': 0.5, 'thrown': 0.0, 'all': 0.5}
    with pytest.raises(ValueError, match='does not cover'):
        plan_object_counts(plan, torch.ones(1, 5, dtype=torch.bool))


class _Logger:
    def __init__(self):
        self.records = []

    def warning(self, message):
        self.records.append((logging.WARNING, message))

    def info(self, message):
        self.records.append((logging.INFO, message))


def test_capture_hook_says_once_that_it_skips_a_dataset_without_masks():
    runner = SimpleNamespace(train_dataloader=SimpleNamespace(dataset=object()), logger=_Logger(), epoch=0)
    hook = FAMTObjectCaptureHook()
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    hook.after_train_iter(runner, 0, dict(inputs=[torch.zeros(3, 8, 8)], data_samples=[None]))
    hook.after_train(runner)
    assert len(runner.logger.records) == 1
    level, message = runner.logger.records[0]
    assert level == logging.WARNING and 'object capture is skipped' in message


def test_oracle_refuses_a_dataset_without_masks():
    runner = SimpleNamespace(train_dataloader=SimpleNamespace(dataset=object()), epoch=0)
    with pytest.raises(TypeError, match='FAMTObjectOracleHook needs a training set with object masks'):
        FAMTObjectOracleHook(start_epoch=1).before_train(runner)


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(start_epoch=-1), 'start_epoch must be an integer >= 0'),
        (dict(interval=0), 'interval must be an integer >= 1'),
        (dict(background=0), 'background must be a number > 0'),
    ],
)
def test_oracle_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FAMTObjectOracleHook(**kwargs)


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(threshold=1.5), r'threshold must lie in \(0, 1\]'),
        (dict(batch_size=0), 'batch_size must be an integer >= 1'),
    ],
)
def test_capture_hook_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FAMTObjectCaptureHook(**kwargs)


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(finetune_epochs=-1), 'finetune_epochs must be an integer >= 0'),
        (dict(shift=1.5), 'shift must be an integer >= 0'),
        (dict(lr=0), 'lr must be a number > 0'),
        (dict(knn_k=0), 'knn_k must be an integer >= 1'),
        (dict(weight_decay=-1), 'weight_decay must be a number >= 0'),
    ],
)
def test_few_label_hook_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FAMTFewLabelEvalHook(train_dataloader={}, test_dataloader={}, **kwargs)


def test_image_features_are_the_cls_token_or_the_pooled_map():
    tokens = torch.arange(2 * 5 * 3, dtype=torch.float32).reshape(2, 5, 3)
    assert torch.equal(image_features(tokens), tokens[:, 0])
    feature_map = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    assert torch.equal(image_features(feature_map), feature_map.mean(dim=(2, 3)))


def test_knn_votes_with_the_nearest_neighbours():
    train_x = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    train_y = torch.tensor([0, 0, 1, 1])
    test_x = torch.tensor([[1.0, 0.05], [0.05, 1.0], [0.2, 1.0]])
    assert knn_top1(train_x, train_y, test_x, torch.tensor([0, 1, 1]), k=2) == 100.0
    assert knn_top1(train_x, train_y, test_x, torch.tensor([1, 1, 1]), k=2) == pytest.approx(200 / 3)


def test_random_shifts_move_images_within_the_range_and_repeat_with_the_seed():
    images = torch.zeros(8, 1, 10, 10)
    images[:, :, 5, 5] = 1
    shifted = random_shifts(images, 2, torch.Generator().manual_seed(0))
    again = random_shifts(images, 2, torch.Generator().manual_seed(0))
    assert torch.equal(shifted, again) and shifted.shape == images.shape
    for image in shifted:
        y, x = (image[0] == 1).nonzero()[0].tolist()
        assert abs(y - 5) <= 2 and abs(x - 5) <= 2
    assert random_shifts(images, 0, torch.Generator()) is images


def test_figures_outline_the_object_box_where_it_lies():
    import numpy as np

    from famt_mm.visualization.figures import outline_box

    image = np.zeros((48, 48, 3), np.uint8)
    shown = outline_box(image, (12, 24, 36, 48), panel=96)  # scale 2: x 24..71, y 48..95
    assert shown.shape == (96, 96, 3)
    assert (shown[48, 24:72] == 255).all() and (shown[60, 24] == 255).all()
    assert (shown[20, 20] == 0).all() and (shown[70, 50] == 0).all()  # outside and inside stay
