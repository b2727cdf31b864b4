"""Drawing helpers for FAMT figures: heat maps, mask plans over images, captioned grids.

Plain numpy + OpenCV on (H, W, 3) uint8 RGB arrays; no model code, no mmengine.
"""

from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

#: panel colours (RGB) of the three patch sets of a mask plan
PLAN_COLORS = {'masked': (230, 50, 40), 'thrown': (40, 90, 230), 'visible': (40, 190, 80)}
#: how strongly each set's colour covers the image (thrown patches are gone: nearly opaque)
PLAN_ALPHA = {'masked': 0.6, 'thrown': 0.85, 'visible': 0.2}
PAD = 4  # pixels around and between panels
CAPTION = 18  # pixels of caption band above each panel

Caption = Union[str, Sequence[Tuple[str, Tuple[int, int, int]]]]


def resize_panel(image: np.ndarray, size: int) -> np.ndarray:
    """Square ``size`` x ``size`` panel; upscaling keeps patch edges sharp (nearest)."""
    interpolation = cv2.INTER_NEAREST if size >= max(image.shape[:2]) else cv2.INTER_AREA
    return cv2.resize(image, (size, size), interpolation=interpolation)


def heatmap(
    values: np.ndarray,
    size: int,
    background: Optional[np.ndarray] = None,
    cmap: str = 'viridis',
    alpha: float = 0.75,
) -> np.ndarray:
    """A (gh, gw) map as a colour panel, min-max scaled for display, over a grey ``background``."""
    from matplotlib import colormaps

    values = np.asarray(values, dtype=np.float64)
    low, high = np.nanmin(values), np.nanmax(values)
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    colours = (colormaps[cmap](scaled)[..., :3] * 255).astype(np.uint8)
    panel = resize_panel(colours, size).astype(np.float32)
    if background is not None:
        grey = cv2.cvtColor(resize_panel(background, size), cv2.COLOR_RGB2GRAY)
        panel = alpha * panel + (1 - alpha) * grey[..., None].astype(np.float32)
    return panel.clip(0, 255).astype(np.uint8)


def cell_mask(labels: np.ndarray, value: int, size: int) -> np.ndarray:
    """(size, size) bool mask of the grid cells of ``labels`` (gh, gw) equal to ``value``."""
    hit = (np.asarray(labels) == value).astype(np.uint8)
    return cv2.resize(hit, (size, size), interpolation=cv2.INTER_NEAREST).astype(bool)


def plan_overlay(image: np.ndarray, labels: np.ndarray, size: int) -> np.ndarray:
    """The image with visible / masked / thrown patches (labels 0 / 1 / 2) tinted by set."""
    panel = resize_panel(image, size).astype(np.float32)
    for value, name in enumerate(('visible', 'masked', 'thrown')):
        where = cell_mask(labels, value, size)
        alpha = PLAN_ALPHA[name]
        colour = np.asarray(PLAN_COLORS[name], np.float32)
        panel[where] = (1 - alpha) * panel[where] + alpha * colour
    return panel.clip(0, 255).astype(np.uint8)


def plan_caption(labels: np.ndarray) -> List[Tuple[str, Tuple[int, int, int]]]:
    """'mask n throw n visible n', each set's count in its colour."""
    labels = np.asarray(labels)
    return [
        (f'{word} {int((labels == value).sum())} ', PLAN_COLORS[name])
        for value, name, word in ((1, 'masked', 'mask'), (2, 'thrown', 'throw'), (0, 'visible', 'visible'))
    ]


def fill_cells(image: np.ndarray, labels: np.ndarray, fills: dict, size: int) -> np.ndarray:
    """The image with the cells of each label in ``fills`` painted a flat colour."""
    panel = resize_panel(image, size).copy()
    for value, colour in fills.items():
        panel[cell_mask(labels, value, size)] = colour
    return panel


def grid_shape(rows: int, cols: int, panel: int) -> Tuple[int, int]:
    """(height, width) in pixels of a grid of ``rows`` x ``cols`` captioned panels."""
    return rows * (CAPTION + panel) + (rows + 1) * PAD, cols * panel + (cols + 1) * PAD


def compose_grid(cells: Sequence[Sequence[Tuple[np.ndarray, Caption]]], panel: int) -> np.ndarray:
    """Lay out rows of (panel image, caption) on white; every panel is ``panel`` px square.

    A caption is a string or a list of (text, RGB colour) pieces written one after the other.
    """
    rows, cols = len(cells), max(len(row) for row in cells)
    canvas = np.full((*grid_shape(rows, cols, panel), 3), 255, dtype=np.uint8)
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.38
    for r, row in enumerate(cells):
        top = PAD + r * (CAPTION + panel + PAD)
        for c, (image, caption) in enumerate(row):
            left = PAD + c * (panel + PAD)
            pieces = [(caption, (0, 0, 0))] if isinstance(caption, str) else caption
            x = left
            for text, colour in pieces:
                cv2.putText(
                    canvas,
                    text,
                    (x, top + CAPTION - 5),
                    font,
                    scale,
                    tuple(int(v) for v in colour),
                    1,
                    cv2.LINE_AA,
                )
                x += cv2.getTextSize(text, font, scale, 1)[0][0]
            body = top + CAPTION
            canvas[body : body + panel, left : left + panel] = resize_panel(image, panel)
    return canvas


def save_png(path: str, image: np.ndarray) -> None:
    """Write an RGB array as PNG (OpenCV writes BGR)."""
    if not cv2.imwrite(path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f'could not write {path}')
