"""Figures of FAMT's maps, plans and reconstructions (PNG grids for people to look at)."""

from .figures import draw_plan, famt_figures, importance_maps, reconstruct, to_display
from .panels import PLAN_COLORS, compose_grid, grid_shape, heatmap, plan_caption, plan_overlay, save_png

__all__ = [
    'draw_plan',
    'famt_figures',
    'importance_maps',
    'reconstruct',
    'to_display',
    'PLAN_COLORS',
    'compose_grid',
    'grid_shape',
    'heatmap',
    'plan_caption',
    'plan_overlay',
    'save_png',
]
