"""Warping stored whole-image maps to training views (docs/method.md section 3)."""

import torch

from famt_mm.core import pool_to_units, warp_to_views


def _hot(grid, row, col):
    m = torch.zeros(1, grid, grid)
    m[0, row, col] = 1.0
    return m


def _argmax_cell(m):
    flat = int(m.flatten().argmax())
    return divmod(flat, m.shape[-1])


def test_whole_image_box_is_the_identity():
    maps = torch.rand(3, 14, 14)
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0]]).expand(3, -1)
    assert torch.allclose(warp_to_views(maps, boxes, (14, 14)), maps, atol=1e-6)


def test_flip_mirrors_columns_and_rows():
    maps = torch.rand(2, 6, 8)
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0]]).expand(2, -1)
    yes = torch.tensor([True, True])
    assert torch.allclose(warp_to_views(maps, boxes, (6, 8), hflip=yes), maps.flip(-1), atol=1e-6)
    assert torch.allclose(warp_to_views(maps, boxes, (6, 8), vflip=yes), maps.flip(-2), atol=1e-6)


def test_hot_cell_lands_under_the_right_patch_after_crop():
    # 4x4 map, hot cell at row 1, col 3; the crop is the top-right quarter (rows 0-1, cols 2-3),
    # resized to 4x4: the hot cell covers the view's rows 2-3, cols 2-3.
    box = torch.tensor([[0.5, 0.0, 1.0, 0.5]])
    view = warp_to_views(_hot(4, 1, 3), box, (4, 4))[0]
    row, col = _argmax_cell(view)
    assert row in (2, 3) and col in (2, 3)
    assert view[2:, 2:].sum() > 0.7 * view.sum()
    # the view's top-left lies over cold cells (bilinear spill from the hot cell aside)
    assert view[0, 0] == 0 and view[:2, :2].sum() < 0.1 * view.sum()


def test_hot_cell_after_crop_and_flip():
    box = torch.tensor([[0.5, 0.0, 1.0, 0.5]])
    view = warp_to_views(_hot(4, 1, 3), box, (4, 4), hflip=torch.tensor([True]))[0]
    assert view[2:, :2].sum() > 0.7 * view.sum()


def test_hot_cell_on_a_14x14_grid_with_an_offset_crop():
    # crop x in [0.25, 0.75], y in [0.5, 1.0]: map cell (10, 7) (centre 10.5/14, 7.5/14) lands at
    # view coordinates ((7.5/14 - 0.25) / 0.5, (10.5/14 - 0.5) / 0.5) = (0.571, 0.5) of the view
    box = torch.tensor([[0.25, 0.5, 0.75, 1.0]])
    view = warp_to_views(_hot(14, 10, 7), box, (14, 14))[0]
    ys, xs = torch.meshgrid(torch.arange(14.0), torch.arange(14.0), indexing='ij')
    centre_x = ((xs + 0.5) * view).sum() / view.sum() / 14
    centre_y = ((ys + 0.5) * view).sum() / view.sum() / 14
    assert abs(centre_x - 0.571) < 0.04 and abs(centre_y - 0.5) < 0.04


def test_pool_to_units_sums_blocks():
    weights = torch.arange(16.0).reshape(1, 4, 4)
    units = pool_to_units(weights, 2)
    assert torch.allclose(
        units[0], torch.tensor([[0 + 1 + 4 + 5, 2 + 3 + 6 + 7], [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]]).float()
    )
