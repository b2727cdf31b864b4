"""FAMT figures from a model: importance maps with one sampled plan, and MAE reconstructions.

Everything is computed with the model's own paths: the refresh hook's scoring (``read_last_block``
and ``weights_of``, the paths of ``score_images``, so every backbone that scores can be drawn: a CNN
has no attention, so only its frequency map), the core's ``plan_from_weights`` with the
preprocessor's ratios and masking unit, and FAMT-MAE's encoder and decoder. Random state is
forked, so drawing figures during training leaves the training's own draws alone.
"""

from contextlib import contextmanager
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch

from ..core import SIGMA_RATIO, MaskPlan, mean_one, object_auc, plan_from_weights
from ..models.masking.data_preprocessor import FAMTDataPreprocessor
from ..models.masking.mask_generators import AMTMaskGenerator, FAMTMaskGenerator, FAMTRandomMaskGenerator
from ..models.masking.scoring import needs_attention, read_last_block, weights_of
from ..models.selfsup.mae import FAMTMAE
from .panels import PLAN_COLORS, compose_grid, fill_cells, heatmap, plan_caption, plan_overlay

_MASK_GREY = (128, 128, 128)


@contextmanager
def seeded(seed: Optional[int], device: torch.device):
    """Run a block with a fixed seed and give the previous random state back afterwards."""
    if seed is None:
        yield
        return
    devices = [device] if device.type == 'cuda' else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@torch.no_grad()
def importance_maps(model, inputs: torch.Tensor) -> Dict[str, Optional[torch.Tensor]]:
    """(B, gh, gw) maps of normalised whole images: 'amt', 'famt', 'frequency' and 'guide'.

    All come from one scoring pass. 'guide' is what the model's own mask generator samples from (the
    refresh hook's weights), or ``None`` for a generator that needs no maps; the maps that need
    attention are ``None`` for a backbone without it (a CNN).
    """
    generator = model.data_preprocessor.mask_generator
    sigma_ratio = getattr(generator, 'sigma_ratio', SIGMA_RATIO)
    references = dict(
        amt=AMTMaskGenerator(),
        famt=FAMTMaskGenerator(sigma_ratio=sigma_ratio),
        frequency=FAMTMaskGenerator(weight_source='frequency', sigma_ratio=sigma_ratio),
    )
    block = read_last_block(model, inputs)
    maps = {
        name: None if block.attn is None and needs_attention(reference) else weights_of(block, reference)
        for name, reference in references.items()
    }
    maps['guide'] = weights_of(block, generator) if generator.needs_importance else None
    return maps


def draw_plan(
    preprocessor: FAMTDataPreprocessor, inputs: torch.Tensor, weights: Optional[torch.Tensor]
) -> MaskPlan:
    """One plan per whole image from ``weights`` (B, gh, gw), as the preprocessor draws a view's.

    The weights are taken as stored maps are (mean 1 per image, ``eps`` added) and go through the
    same :func:`plan_from_weights` with the preprocessor's ratios and masking unit; ``None`` draws
    with uniform weights at the ratios of a generator without maps. The preprocessor is not changed.
    """
    guided = weights is not None
    if guided:
        weights = mean_one(weights.float()).clamp_min(0) + preprocessor.eps
    return plan_from_weights(
        weights,
        preprocessor.patch_grid(inputs),
        preprocessor.unit,
        batch_size=inputs.shape[0],
        device=inputs.device,
        **preprocessor.plan_settings(guided),
    )


@torch.no_grad()
def reconstruct(model: FAMTMAE, inputs: torch.Tensor, plan: MaskPlan) -> torch.Tensor:
    """FAMT-MAE's prediction of the masked patches pasted into the input (visible and thrown kept).

    With ``norm_pix`` the head predicts per-patch normalised pixels; they are mapped back with each
    original patch's mean and standard deviation (as MAE's own visualisations do).
    """
    latent = model.backbone(inputs, plan)
    pred = model.neck(latent, plan.visible, plan.masked)
    patches = model.head.patchify(inputs)
    index = plan.masked[..., None].expand(-1, -1, patches.shape[-1])
    if model.head.norm_pix:
        target = torch.gather(patches, 1, index)
        mean = target.mean(dim=-1, keepdim=True)
        std = (target.var(dim=-1, keepdim=True) + 1e-6) ** 0.5
        pred = pred * std + mean
    return model.head.unpatchify(patches.scatter(1, index, pred.to(patches.dtype)))


def to_display(preprocessor, images: torch.Tensor, bgr: bool = True) -> List[np.ndarray]:
    """Normalised (B, 3, H, W) inputs back to (H, W, 3) uint8 RGB arrays.

    Inputs loaded as OpenCV does (BGR) are flipped to RGB unless the preprocessor already did it;
    ``bgr=False`` says the inputs were RGB to begin with (datasets that render RGB arrays).
    """
    x = images.float()
    if getattr(preprocessor, '_enable_normalize', False):
        x = x * preprocessor.std.float() + preprocessor.mean.float()
    if bgr and not getattr(preprocessor, '_channel_conversion', False):
        x = x.flip(1)
    return [a for a in x.clamp(0, 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()]


def outline_box(image: np.ndarray, box, panel: int, colour=(255, 255, 255)) -> np.ndarray:
    """The image as a ``panel``-px panel with ``box`` (x0, y0, x1, y1 in the image's pixels, end
    exclusive) outlined."""
    from .panels import resize_panel

    shown = resize_panel(image, panel).copy()
    scale_x, scale_y = panel / image.shape[1], panel / image.shape[0]
    x0, y0, x1, y1 = (float(v) for v in box)
    cv2.rectangle(
        shown,
        (int(round(x0 * scale_x)), int(round(y0 * scale_y))),
        (int(round(x1 * scale_x)) - 1, int(round(y1 * scale_y)) - 1),
        colour,
        2,
    )
    return shown


def famt_figures(
    model,
    inputs: torch.Tensor,
    panel: int = 192,
    seed: Optional[int] = 0,
    label: Optional[str] = None,
    boxes: Optional[np.ndarray] = None,
    objects: Optional[torch.Tensor] = None,
    bgr: bool = True,
) -> List[dict]:
    """Per image, RGB grids: 'maps' (image, AMT map, FAMT map, frequency factor, sampled plan) and,
    for FAMT-MAE models, 'reconstruction' (rows: the model's guided plan, MAE's random 0.75;
    columns: original, masked input, reconstruction).

    Args:
        model: a FAMT model (``FAMTDataPreprocessor``, any backbone that scores), e.g. ``FAMTMAE``.
        inputs: (B, 3, H, W) whole images normalised by the model's preprocessor.
        panel: side of each square panel in pixels.
        seed: seed of the sampled plans (the caller's random state is left as it was); ``None``
            draws from the current state.
        label: the mask generator's name in the captions (e.g. an ablation variant's); defaults to
            its type and ratios.
        boxes: (B, 4) object boxes ``(x0, y0, x1, y1)`` in the inputs' pixels, outlined on the
            image panels (the cluttered digits); None draws none.
        objects: (B, gh, gw) bool object patches; each map's caption then gives its ROC-AUC as a
            detector of them (:func:`famt_mm.core.object_auc`).
        bgr: whether the inputs were loaded BGR (OpenCV); False for RGB arrays.
    """
    preprocessor = model.data_preprocessor
    if not isinstance(preprocessor, FAMTDataPreprocessor):
        raise TypeError(
            f'FAMT figures need a model with FAMTDataPreprocessor, got {type(preprocessor).__name__}'
        )
    was_training = model.training
    model.eval()
    try:
        with seeded(seed, inputs.device):
            maps = importance_maps(model, inputs)
            plan = draw_plan(preprocessor, inputs, maps['guide'])
            labels = plan.to_labels().reshape(-1, *preprocessor.patch_grid(inputs)).cpu().numpy()
            recon = None
            if isinstance(model, FAMTMAE):
                generator = FAMTRandomMaskGenerator()
                random_plan = plan_from_weights(
                    None,
                    labels.shape[1:],
                    1,
                    generator.mask_ratio,
                    generator.throw_ratio,
                    batch_size=inputs.shape[0],
                    device=inputs.device,
                )
                random_labels = random_plan.to_labels().reshape(labels.shape).cpu().numpy()
                recon = (reconstruct(model, inputs, plan), reconstruct(model, inputs, random_plan))
    finally:
        model.train(was_training)

    images = to_display(preprocessor, inputs, bgr)
    shown_images = (
        images if boxes is None else [outline_box(image, box, panel) for image, box in zip(images, boxes)]
    )
    aucs = (
        {}
        if objects is None
        else {k: object_auc(v.float().cpu(), objects.cpu()) for k, v in maps.items() if v is not None}
    )
    maps_np = {k: v.cpu().numpy() for k, v in maps.items() if v is not None}
    generator = preprocessor.mask_generator
    map_panels = [
        (name, caption, cmap)
        for name, caption, cmap in (
            ('amt', 'AMT map', 'viridis'),
            ('famt', 'FAMT map', 'viridis'),
            ('frequency', 'frequency factor', 'magma'),
        )
        if name in maps_np
    ]
    figures = []
    for i, image in enumerate(images):
        maps_grid = compose_grid(
            [
                [
                    (shown_images[i], label or 'image'),
                    *(
                        (
                            heatmap(maps_np[name][i], panel, image, cmap=cmap),
                            caption if name not in aucs else f'{caption} AUC {aucs[name][i]:.2f}',
                        )
                        for name, caption, cmap in map_panels
                    ),
                    (plan_overlay(image, labels[i], panel), plan_caption(labels[i])),
                ]
            ],
            panel,
        )
        figure = dict(maps=maps_grid, reconstruction=None)
        if recon is not None:
            rows = []
            for title, plan_labels, rebuilt in (
                (
                    label
                    or f'{type(generator).__name__.replace("MaskGenerator", "")} '
                    f'{generator.mask_ratio:g}/{generator.throw_ratio:g}',
                    labels[i],
                    recon[0],
                ),
                ('random 0.75 (MAE)', random_labels[i], recon[1]),
            ):
                shown = to_display(preprocessor, rebuilt[i : i + 1], bgr)[0]
                rows.append(
                    [
                        (shown_images[i], title),
                        (
                            fill_cells(image, plan_labels, {1: _MASK_GREY, 2: PLAN_COLORS['thrown']}, panel),
                            plan_caption(plan_labels),
                        ),
                        (fill_cells(shown, plan_labels, {2: PLAN_COLORS['thrown']}, panel), 'reconstruction'),
                    ]
                )
            figure['reconstruction'] = compose_grid(rows, panel)
        figures.append(figure)
    return figures
