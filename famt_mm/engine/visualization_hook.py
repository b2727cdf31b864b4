"""Draws FAMT's map and reconstruction grids of a few training images to the visualizer backends."""

from typing import List, Optional, Sequence

from mmengine.dataset import default_collate
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from ..visualization import famt_figures
from .utils import derived_whole_image_pipeline, unwrap_model, whole_image_dataset


@HOOKS.register_module()
class FAMTVisualizationHook(Hook):
    """Every ``interval`` epochs, the grids of ``tools/visualize.py`` for fixed training images.

    The images of ``indices`` go through ``pipeline`` (the whole image, as the refresh hook scores
    it, and derived from the training pipeline the same way when not given); the grids go to
    ``runner.visualizer.add_image`` as ``famt_maps_<idx>`` and
    ``famt_reconstruction_<idx>`` with the number of epochs done as step, so every configured
    backend gets them (``LocalVisBackend`` writes PNGs under the work dir's ``vis_data/vis_image``).
    Plans are drawn with a fixed seed in a forked random state, so training's own draws are
    untouched.

    Args:
        pipeline (list[dict], optional): whole-image transforms. Defaults to None: the refresh hook's
            rule, the training pipeline's loading, a resize to the view's size and ``PackInputs``.
        indices (Sequence[int]): training-set indices of the images to draw. Defaults to (0, 1).
        interval (int): epochs between drawings, >= 1. Defaults to 10.
        panel (int): side of each panel in pixels, >= 16. Defaults to 128.
        seed (int): seed of the sampled plans. Defaults to 0.
    """

    priority = 'LOW'

    def __init__(
        self,
        pipeline: Optional[List[dict]] = None,
        indices: Sequence[int] = (0, 1),
        interval: int = 10,
        panel: int = 128,
        seed: int = 0,
    ):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be an integer >= 1, got {interval!r}')
        if not isinstance(panel, int) or panel < 16:
            raise ValueError(f'panel must be an integer >= 16 (pixels), got {panel!r}')
        if pipeline is not None and not pipeline:
            raise ValueError(
                'pipeline must list the whole-image transforms (load, resize, pack), or be '
                'None to derive them from the training pipeline'
            )
        if not indices or any(not isinstance(i, int) or i < 0 for i in indices):
            raise ValueError(f'indices must be non-negative integers, got {indices!r}')
        self.pipeline = pipeline
        self.indices = list(indices)
        self.interval = interval
        self.panel = panel
        self.seed = seed

    def after_train_epoch(self, runner) -> None:
        if self.every_n_epochs(runner, self.interval) and is_main_process():
            self.draw(runner)

    def draw(self, runner) -> None:
        model = unwrap_model(runner)
        dataset = runner.train_dataloader.dataset
        if max(self.indices) >= len(dataset):
            raise ValueError(f'indices {self.indices} reach beyond the training set of {len(dataset)} images')
        if self.pipeline is None:
            self.pipeline = derived_whole_image_pipeline(dataset, 'FAMTVisualizationHook')
        dataset = whole_image_dataset(dataset, self.pipeline, 'FAMTVisualizationHook')
        batch = default_collate([dataset[i] for i in self.indices])
        inputs = model.data_preprocessor(batch, training=False)['inputs']
        figures = famt_figures(model, inputs, panel=self.panel, seed=self.seed)
        for index, figure in zip(self.indices, figures):
            for kind, grid in figure.items():
                if grid is not None:
                    runner.visualizer.add_image(f'famt_{kind}_{index}', grid, step=runner.epoch + 1)
