"""What the CUDA tests (``-m gpu``) share with their CPU counterparts, so that the CPU runs check the
very code the GPU runs: one AMP training step and one scoring pass of a tiny model of every
algorithm; the ViT-B/16 FAMT-MAE entry-point config set up for a short Runner training across a
refresh, with recorders of its steps and of the refresh's scoring; the fused-AdamW probe; the
peak memory of one step; and a per-image Spearman rank correlation.
"""

import itertools
from dataclasses import dataclass
from functools import partial
from typing import Callable, List, Optional, Tuple

import torch
from mmengine.hooks import Hook

from famt_mm.testing import (
    swin_simmim_cfg,
    tiny_mae_cfg,
    tiny_maskfeat_cfg,
    tiny_mff_cfg,
    tiny_spark_cfg,
    tiny_spark_convnext_cfg,
    vit_simmim_cfg,
)
from famt_mm.testing.a2mim import tiny_a2mim_cfg
from famt_mm.testing.beit_cae import tiny_beit_cfg, tiny_beitv2_cfg, tiny_cae_cfg
from famt_mm.testing.equivalence import uncropped_samples

#: the documented ViT-B/16 ImageNet-1K FAMT-MAE entry point, relative to famt_mm's config root
VITB_CONFIG = 'famt/mae_vitb_in1k.py'


# ------------------------------------------------------------------------------------ tiny models
def _milan() -> dict:
    from famt_mm.testing.milan import tiny_clip_path, tiny_milan_cfg

    return tiny_milan_cfg(tiny_clip_path())


@dataclass(frozen=True)
class TinyAlgorithm:
    """A tiny model of one algorithm: its config builder and the sizes of the pictures it takes (two
    for BEiT and CAE: the backbone's and the tokenizer's)."""

    name: str
    cfg: Callable[[], dict]
    sizes: Tuple[int, ...]


ALGORITHMS = (
    TinyAlgorithm('mae', tiny_mae_cfg, (16,)),
    TinyAlgorithm('simmim-vit', vit_simmim_cfg, (16,)),
    TinyAlgorithm('simmim-swin', swin_simmim_cfg, (32,)),
    TinyAlgorithm('beit-v1', tiny_beit_cfg, (32, 64)),
    TinyAlgorithm('beit-v2', tiny_beitv2_cfg, (32, 32)),
    TinyAlgorithm('cae', tiny_cae_cfg, (32, 64)),
    TinyAlgorithm('maskfeat', tiny_maskfeat_cfg, (56,)),
    TinyAlgorithm('mff', tiny_mff_cfg, (16,)),
    TinyAlgorithm('milan', _milan, (16,)),
    TinyAlgorithm('spark-resnet', tiny_spark_cfg, (128,)),
    TinyAlgorithm('spark-convnext', tiny_spark_convnext_cfg, (128,)),
    TinyAlgorithm('a2mim', tiny_a2mim_cfg, (96,)),
)


def amp_optim_wrapper(model: torch.nn.Module, dtype: str, fused: bool = True):
    """mmengine's ``AmpOptimWrapper`` built by ``FAMTOptimWrapperConstructor`` (AdamW, fused as asked).

    The loss scale starts at 2**10, not the scaler's 2**16: one step of a random tiny model in fp16
    may overflow at 2**16 and be skipped, which these tests would read as a step that did nothing.
    """
    from mmengine.optim import build_optim_wrapper

    return build_optim_wrapper(
        model,
        dict(
            type='AmpOptimWrapper',
            dtype=dtype,
            loss_scale=dict(init_scale=2.0**10),
            constructor='FAMTOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, fused=fused),
        ),
    )


def tiny_batch(algorithm: TinyAlgorithm, batch: int = 4, seed: int = 0) -> dict:
    """A loader's batch for ``algorithm``: CPU uint8 pictures of images 0, 1, ... (uncropped)."""
    rng = torch.Generator().manual_seed(seed)
    pictures = [
        torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, generator=rng)
        for size in algorithm.sizes
    ]
    return dict(inputs=pictures if len(pictures) > 1 else pictures[0], data_samples=uncropped_samples(batch))


def amp_step_and_score(algorithm: TinyAlgorithm, device: str, dtype: str) -> dict:
    """One AMP ``train_step`` of a tiny model on ``device`` with stored maps (guided masking and
    throwing from the first step), then the refresh's scoring of the same images under the same
    autocast.

    Returns:
        dict: ``loss`` (float), ``moved`` (names of the parameters the step changed), ``guided``,
        ``maps`` (the scoring's output), ``devices`` (device types of all parameters and buffers
        afterwards) and ``cast_dtype`` (the wrapper's autocast dtype).
    """
    from mmengine.runner.amp import autocast
    from mmpretrain.registry import MODELS

    from famt_mm.models import score_images

    torch.manual_seed(0)
    model = MODELS.build(algorithm.cfg())
    model.init_weights()
    model.to(device)
    model.train()
    preprocessor = model.data_preprocessor
    preprocessor.importance_cache.set(torch.rand(4, 4, 4) + 0.1)  # one map per image, on the CPU
    optim_wrapper = amp_optim_wrapper(model, dtype)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    data = tiny_batch(algorithm)
    log_vars = model.train_step(data, optim_wrapper)
    moved = [n for n, p in model.named_parameters() if n in before and not torch.equal(before[n], p.detach())]
    # the refresh hook's scoring: the backbone's picture, eval mode, no gradient, the AMP autocast
    whole = dict(
        inputs=data['inputs'][0] if isinstance(data['inputs'], list) else data['inputs'],
        data_samples=uncropped_samples(4),
    )
    model.eval()
    with torch.no_grad():
        images = preprocessor(whole, training=False)['inputs']
        with autocast(dtype=optim_wrapper.cast_dtype):
            maps = score_images(model, images, preprocessor.mask_generator)
    return dict(
        loss=float(log_vars['loss']),
        moved=moved,
        guided=preprocessor.guided,
        maps=maps,
        devices={t.device.type for t in itertools.chain(model.parameters(), model.buffers())},
        cast_dtype=optim_wrapper.cast_dtype,
    )


def fused_adamw_ops(device: str) -> List[str]:
    """The AdamW kernels one update of a tiny FAMT-MAE runs when its config asks for ``fused=True``
    (``FAMTOptimWrapperConstructor``), read from torch.profiler."""
    from mmpretrain.registry import MODELS
    from torch.profiler import profile

    model = MODELS.build(tiny_mae_cfg()).to(device)
    optim_wrapper = amp_optim_wrapper(model, 'float16' if device == 'cuda' else 'bfloat16')
    assert optim_wrapper.optimizer.defaults.get('fused') is True
    data = tiny_batch(ALGORITHMS[0])
    with profile() as prof:
        model.train_step(data, optim_wrapper)
    return sorted(
        {e.key for e in prof.key_averages() if 'adam' in e.key.lower() and e.key.startswith('aten::')}
    )


# ------------------------------------------------------------------------------------ ranks
def average_ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks (0-based, float64) of each row of (B, L) ``x``; tied values share their mean rank."""
    ranks = torch.empty(x.shape, dtype=torch.float64)
    for i, row in enumerate(x.detach().double().cpu()):
        _, inverse, counts = torch.unique(row, sorted=True, return_inverse=True, return_counts=True)
        first = torch.cumsum(counts, 0) - counts
        ranks[i] = (first + (counts - 1) / 2.0)[inverse]
    return ranks


def spearman_per_image(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation of each image's map in ``a`` with its map in ``b`` (B, ...) -> (B,)."""
    ra, rb = average_ranks(a.flatten(1)), average_ranks(b.flatten(1))
    ra = ra - ra.mean(dim=1, keepdim=True)
    rb = rb - rb.mean(dim=1, keepdim=True)
    return (ra * rb).sum(dim=1) / (ra.norm(dim=1) * rb.norm(dim=1)).clamp_min(1e-12)


# ------------------------------------------------------------------------------------ Runner
def vitb_runner_cfg(
    work_dir: str,
    data_root: str,
    tag: str,
    *,
    batch_size: int,
    amp_dtype: str,
    epochs: int = 2,
    refresh_start: int = 1,
    compile: bool = False,
    arch: str = 'b',
    img_size: int = 224,
    workers: int = 2,
    save_checkpoints: bool = True,
):
    """:data:`VITB_CONFIG` through mmengine's Runner on an image folder, as the end-to-end benchmark
    sets it up (``famt_benchmarks.e2e.prepare_cfg``): the config's own pipeline, model, optimizer
    wrapper (``AmpOptimWrapper``, dynamic loss scale, autocast dtype ``amp_dtype``), schedulers and
    hooks; batch, workers and epochs as given; one refresh, before epoch ``refresh_start``. ``arch``
    and ``img_size`` shrink it for the CPU counterparts (with a one-block decoder)."""
    from famt_benchmarks.e2e import E2EOptions, prepare_cfg
    from famt_benchmarks.step import Method

    opts = E2EOptions(
        data_root=data_root,
        batch_size=batch_size,
        workers=workers,
        epochs=epochs,
        refresh_start=refresh_start,
        arch=arch,
        img_size=img_size,
        tiny_decoder=arch != 'b',
        amp=True,
        compile=compile,
        optimizer='fused',
        work_dir=str(work_dir),
    )
    cfg, _ = prepare_cfg(Method('FAMT-MAE', VITB_CONFIG), opts, tag)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.optim_wrapper.loss_scale == 'dynamic'
    cfg.optim_wrapper.dtype = amp_dtype
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook',
        interval=1 if save_checkpoints else 10**6,
        save_last=save_checkpoints,
        max_keep_ckpts=3,
    )
    return cfg


def autocast_state(device_type: str) -> Tuple[bool, torch.dtype]:
    """Whether autocast is on for ``device_type`` here, and its dtype (torch 2.1 and later)."""
    try:
        return torch.is_autocast_enabled(device_type), torch.get_autocast_dtype(device_type)
    except (TypeError, AttributeError):  # torch < 2.4
        if device_type == 'cuda':
            return torch.is_autocast_enabled(), torch.get_autocast_gpu_dtype()
        return torch.is_autocast_cpu_enabled(), torch.get_autocast_cpu_dtype()


class ScoringRecorder:
    """Stands in for the refresh hook's ``score_images``: scores each batch as the hook asked (under
    its autocast), records the autocast in force, and scores the same images again in fp32."""

    def __init__(self, score_images: Callable):
        self.score_images = score_images
        self.autocast: List[Tuple[bool, torch.dtype]] = []
        self.fp32_maps: List[torch.Tensor] = []

    def __call__(self, model, images, mask_generator):
        device_type = images.device.type
        self.autocast.append(autocast_state(device_type))
        maps = self.score_images(model, images, mask_generator)
        with torch.autocast(device_type, enabled=False):
            self.fp32_maps.append(self.score_images(model, images.float(), mask_generator).cpu())
        return maps


class StepRecorder(Hook):
    """Records every training step: epoch, loss, the plan's visible and thrown counts, the loss
    scale, and (with ``compile_counts``) dynamo's counters after the step."""

    priority = 'LOWEST'

    def __init__(self, compile_counts: Optional[Callable[[], dict]] = None):
        self.steps: List[dict] = []
        self.compile_counts = compile_counts
        self._plans: List[Tuple[int, int]] = []

    def before_train(self, runner) -> None:
        preprocessor = runner.model.data_preprocessor
        sample = preprocessor.sample_mask_plan

        def recording(inputs, data_samples):
            plan = sample(inputs, data_samples)
            self._plans.append((plan.visible.shape[1], plan.thrown.shape[1]))
            return plan

        preprocessor.sample_mask_plan = recording

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        scaler = getattr(runner.optim_wrapper, 'loss_scaler', None)
        visible, thrown = self._plans[-1]
        self.steps.append(
            dict(
                epoch=runner.epoch,
                loss=float(outputs['loss']),
                visible=visible,
                thrown=thrown,
                loss_scale=float(scaler.get_scale()) if scaler is not None and scaler.is_enabled() else None,
                compile=self.compile_counts() if self.compile_counts else None,
            )
        )


def step_peak_memory(arch: str, img_size: int, batch_size: int, device: str, amp: bool) -> dict:
    """Peak memory of one training step of stock MAE and of FAMT-MAE (the step benchmark's pair,
    guided maps stored), each after one untimed step: ``{method name: peak_memory(...)}``."""
    import argparse

    from famt_benchmarks.measure import peak_memory
    from famt_benchmarks.step import PAIRS, build, make_batch

    args = argparse.Namespace(
        arch=arch, img_size=img_size, batch_size=batch_size, amp=amp, optimizer='fused', compile=False, seed=0
    )
    dev = torch.device(device)
    batch = make_batch(batch_size, img_size, dev)

    def measure(method) -> dict:
        built = build(method, args, dev)
        step = partial(built.model.train_step, batch, built.optim_wrapper)
        step()  # the optimizer state exists from here on
        return peak_memory(step, dev)

    memory = {}
    for method in PAIRS['mae']:  # one model at a time on the device
        memory[method.name] = measure(method)
        if device == 'cuda':
            torch.cuda.empty_cache()
    return memory


# ------------------------------------------------------------------------------------ checks
def check_amp_step(result: dict, device_type: str, cast_dtype: torch.dtype) -> None:
    """What one AMP step and scoring pass of a tiny model must give (:func:`amp_step_and_score`)."""
    assert result['cast_dtype'] == cast_dtype
    assert result['guided']  # the stored maps were used: guided masking (and throwing) from step 1
    assert torch.isfinite(torch.tensor(result['loss'])) and result['loss'] > 0
    assert result['moved'], 'the optimizer step changed no parameter'
    assert result['devices'] == {device_type}
    maps = result['maps']
    assert maps.dtype == torch.float32 and maps.device.type == device_type
    assert maps.shape[0] == 4 and torch.isfinite(maps).all() and (maps >= 0).all()


def run_across_refresh(cfg, compile_counts: Optional[Callable[[], dict]] = None):
    """Train ``cfg`` through mmengine's Runner, recording every step (:class:`StepRecorder`) and the
    refresh's scoring (:class:`ScoringRecorder`); returns (runner, steps, scoring)."""
    from famt_mm.engine import refresh_hook
    from famt_mm.testing import build_runner

    runner = build_runner(cfg)  # the config's FAMTRunner
    steps = StepRecorder(compile_counts)
    runner.register_hook(steps)
    scoring = ScoringRecorder(refresh_hook.score_images)
    refresh_hook.score_images = scoring
    try:
        runner.train()
    finally:
        refresh_hook.score_images = scoring.score_images
    return runner, steps, scoring


def expected_counts(preprocessor, num_patches: int, guided: bool) -> Tuple[int, int]:
    """(visible, thrown) patches of a plan over ``num_patches`` one-patch units."""
    from famt_mm.core import plan_counts

    settings = preprocessor.plan_settings(guided)
    _, thrown, visible = plan_counts(
        num_patches, settings['mask_ratio'], settings['throw_ratio'], settings['rounding']
    )
    return visible, thrown


def check_run(
    runner,
    steps: StepRecorder,
    scoring: ScoringRecorder,
    *,
    num_images: int,
    batch_size: int,
    cast_dtype: torch.dtype,
    min_spearman: float = 0.99,
) -> dict:
    """A run of :func:`run_across_refresh` (2 epochs, refresh before epoch 1): finite losses and loss
    scale, warm-up then guided plans, the refresh under the training's autocast, the cache on the
    CPU in fp16, its maps ranking each image's patches as an fp32 scoring of the same images does.

    Returns the per-image Spearman correlations and the losses, for printing.
    """
    preprocessor = runner.model.data_preprocessor
    iters = num_images // batch_size
    assert [s['epoch'] for s in steps.steps] == [0] * iters + [1] * iters
    losses = torch.tensor([s['loss'] for s in steps.steps])
    assert torch.isfinite(losses).all() and (losses > 0).all(), losses
    scales = [s['loss_scale'] for s in steps.steps if s['loss_scale'] is not None]
    assert all(0 < scale < float('inf') for scale in scales), scales
    grid = runner.model.backbone.patch_resolution
    num_patches = grid[0] * grid[1]
    warm_up, guided = (expected_counts(preprocessor, num_patches, g) for g in (False, True))
    assert {(s['visible'], s['thrown']) for s in steps.steps if s['epoch'] == 0} == {warm_up}
    assert {(s['visible'], s['thrown']) for s in steps.steps if s['epoch'] == 1} == {guided}

    # the check before training (one image) and the refresh scored under the training's autocast
    assert scoring.autocast and set(scoring.autocast) == {(True, cast_dtype)}, scoring.autocast
    assert scoring.fp32_maps[0].shape[0] == 1  # the check's; the refresh's batches follow
    scoring.fp32_maps = scoring.fp32_maps[1:]
    cache = preprocessor.importance_cache.maps
    assert cache.device.type == 'cpu' and cache.dtype == torch.float16
    assert cache.shape == (num_images, *grid) and torch.isfinite(cache.float()).all()
    # one process, an unshuffled scoring loader: batches in sample_idx order
    fp32 = torch.cat(scoring.fp32_maps)
    assert fp32.shape == cache.shape
    spearman = spearman_per_image(cache.float(), fp32)
    assert (spearman >= min_spearman).all(), (
        f'{int((spearman < min_spearman).sum())} of {num_images} maps rank their patches unlike '
        f'fp32 scoring: Spearman min {spearman.min():.4f}'
    )
    return dict(spearman=spearman, losses=losses)


def check_resume(cfg, checkpoint: str, device_type: str, max_epochs: int) -> None:
    """Resume ``cfg`` from ``checkpoint`` (saved after the refresh) up to ``max_epochs``: the cache
    comes back from the checkpoint (CPU, fp16, unchanged), nothing is scored again, and the steps
    are guided from the first one with finite losses."""
    from famt_mm.checkpoint import load_mmengine_checkpoint
    from famt_mm.engine import CHECKPOINT_KEY, FAMTRefreshHook
    from famt_mm.testing import build_runner

    saved = load_mmengine_checkpoint(checkpoint)[CHECKPOINT_KEY]['maps']
    cfg.resume, cfg.load_from = True, checkpoint
    cfg.train_cfg.max_epochs = max_epochs
    runner = build_runner(cfg)
    hook = next(h for h in runner.hooks if isinstance(h, FAMTRefreshHook))
    refreshes = []
    hook.refresh = lambda r: refreshes.append(r.epoch)
    steps = StepRecorder()
    runner.register_hook(steps)
    runner.train()
    assert refreshes == []
    cache = runner.model.data_preprocessor.importance_cache.maps
    assert cache.device.type == 'cpu' and cache.dtype == torch.float16 and torch.equal(cache, saved)
    assert {p.device.type for p in runner.model.parameters()} == {device_type}
    grid = runner.model.backbone.patch_resolution
    guided = expected_counts(runner.model.data_preprocessor, grid[0] * grid[1], True)
    assert steps.steps and {s['epoch'] for s in steps.steps} == {max_epochs - 1}
    assert {(s['visible'], s['thrown']) for s in steps.steps} == {guided}
    assert all(torch.isfinite(torch.tensor(s['loss'])) for s in steps.steps)


def check_no_recompilation(steps: StepRecorder) -> None:
    """After the first step of the warm-up and the first guided step (whose token counts differ),
    new batches (other sample indices, crops, flips) run the compiled code: nothing compiled again."""
    counts = [(s['epoch'], s['compile']) for s in steps.steps]
    assert counts[0][1]['graphs'] > 0, 'train_step was not compiled'
    for epoch in {e for e, _ in counts}:
        in_epoch = [c for e, c in counts if e == epoch]
        assert all(c == in_epoch[0] for c in in_epoch), (epoch, in_epoch)
