"""Side-by-side training-step benchmark: stock mmpretrain MAE against FAMT-MAE, in one process.

The library of ``tools/benchmark.py``:

    python tools/benchmark.py [--arch b] [--img-size 224] [--batch-size 8] [--iters 10] [--warmup 2]
        [--device cpu|cuda] [--amp] [--compile] [--optimizer fused|foreach|default] [--pairs mae]
        [--out benchmark.json]

The attention pairs (:data:`ATTENTION_PAIRS`, ``--pairs xvit-mae xvit-famt``) compare encoders
instead: the same algorithm and masking on a ViT and on an X-ViT; for them the refresh scoring of
both sides is timed in turns and no FAMT bound applies.

Both models are built from their configs (mmpretrain's stock MAE config and configs/famt/*.py),
shrunk only where the options say (ViT arch, input size). After ``--warmup`` untimed steps the
methods take turns, one training step each (ABBA order), on the same synthetic batches (cycling
through ``NUM_BATCHES`` of them with different sample indices, crops and flips); FAMT's
preprocessor holds importance maps, so its steps are guided (masking 0.45, throwing 0.40). Reported
per method:

- FLOPs of one training step (forward + backward; torch.utils.flop_counter.FlopCounterMode) and the
  ratio FAMT / baseline;
- training-step time (preprocessor, forward, backward, optimizer step: mmengine's ``train_step``),
  median over ``--iters``, and the ratio of the medians;
- peak memory of one step: ``torch.cuda.max_memory_allocated`` on GPU; on CPU the process's peak RSS
  (``resource.getrusage``, with the kernel's high-water mark reset before the step), both also as
  the increase over the memory held before the step;
- for the FAMT method: images/s of the refresh hook's scoring pass (``score_images``: last-block
  attention + the mask generator's ``importance``) against plain encoder inference
  (``extract_feat``) on the same images, and the time of
  ``FAMTDataPreprocessor.sample_mask_plan`` (the cache's warp to the views + the core's
  ``plan_from_weights``) on the guided batch as a share of the FAMT step.

A table goes to stdout, everything (with the machine and the date) to ``--out`` as JSON.
"""

import inspect
import statistics
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch

from famt_mm.utils.configs import find_config

from .measure import (
    compile_counts,
    count_flops,
    eager_around_model,
    peak_memory,
    profile_step,
    summary,
    timed,
)
from .report import Limit


@dataclass
class Method:
    """One side of a comparison: a config, plus optional overrides (``Config.merge_from_dict``)."""

    name: str
    config: str
    cfg_options: dict = field(default_factory=dict)


#: the comparisons; each is (baseline, FAMT), built from configs
PAIRS: Dict[str, Tuple[Method, Method]] = {
    'mae': (
        Method('MAE (random 0.75)', 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'),
        Method('FAMT-MAE (0.45 / 0.40)', 'famt/pretrain/famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'),
    ),
    # SimMIM encodes every position it does not throw, so the baseline's mask ratio does not change
    # its cost: SimMIM's own random 0.6 without throwing, on the same ViT-B model class
    'simmim': (
        Method(
            'SimMIM ViT-B (random 0.6, no throw)',
            'famt/pretrain/famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py',
            {
                'data_preprocessor.mask_generator': dict(
                    _delete_=True, type='FAMTRandomMaskGenerator', mask_ratio=0.6, throw_ratio=0.0
                )
            },
        ),
        Method(
            'FAMT-SimMIM ViT-B (0.44 / 0.26)',
            'famt/pretrain/famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py',
        ),
    ),
}

FAMT_MAE_CONFIG = 'famt/pretrain/famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'
FAMT_MAE_XVIT_CONFIG = 'famt/pretrain/famt-mae_xvit-base-p16_8xb512-amp-coslr-400e_in1k.py'
_RANDOM_075 = {
    'data_preprocessor.mask_generator': dict(
        _delete_=True, type='FAMTRandomMaskGenerator', mask_ratio=0.75, throw_ratio=0.0
    )
}

#: the attention comparisons: the same algorithm and masking on a ViT and on an X-ViT encoder (softmax
#: against XNorm attention, linear in the tokens), each (ViT, X-ViT). MAE is FAMT-MAE's model with
#: MAE's random 0.75 and no throwing (stock MAE for the same index sets), so that both sides share
#: one model class; with two guided methods the refresh scoring of both is timed side by side.
ATTENTION_PAIRS: Dict[str, Tuple[Method, Method]] = {
    'xvit-mae': (
        Method('MAE ViT (random 0.75)', FAMT_MAE_CONFIG, _RANDOM_075),
        Method('MAE X-ViT (random 0.75)', FAMT_MAE_XVIT_CONFIG, _RANDOM_075),
    ),
    'xvit-famt': (
        Method('FAMT-MAE ViT (0.45 / 0.40)', FAMT_MAE_CONFIG),
        Method('FAMT-MAE X-ViT (0.45 / 0.40)', FAMT_MAE_XVIT_CONFIG),
    ),
}


def pair_methods(key: str) -> Tuple[Method, Method]:
    """The two methods of ``key``, a pair of :data:`PAIRS` or :data:`ATTENTION_PAIRS`."""
    if key in PAIRS:
        return PAIRS[key]
    if key in ATTENTION_PAIRS:
        return ATTENTION_PAIRS[key]
    raise ValueError(f'unknown pair {key!r}; pairs: {", ".join([*PAIRS, *ATTENTION_PAIRS])}')


# ------------------------------------------------------------------------------------ building
def vit_embed_dims(arch: str) -> int:
    from mmpretrain.models import VisionTransformer

    if arch not in VisionTransformer.arch_zoo:
        raise ValueError(
            f"--arch must be one of mmpretrain's ViT archs {sorted(VisionTransformer.arch_zoo)}, got {arch!r}"
        )
    return VisionTransformer.arch_zoo[arch]['embed_dims']


def vit_arch(arch: str) -> str:
    """argparse type of the tools' ``--arch``: an mmpretrain ViT arch name."""
    import argparse

    try:
        vit_embed_dims(arch)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return arch


def init_parameters(cls) -> set:
    """Names ``cls(...)`` accepts: its ``__init__``'s, and its bases' where it passes ``**kwargs`` on
    (FAMT's decoders take their stock base's arguments that way)."""
    names = set()
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names - {'self'}


def shrink_model_cfg(model_cfg: dict, arch: str, img_size: int) -> None:
    """Set the encoder's arch and input size and make the neck follow (embed dims, patch count)."""
    from mmpretrain.registry import MODELS

    backbone = model_cfg['backbone']
    patch_size = backbone.get('patch_size', 16)
    if img_size % patch_size:
        raise ValueError(f'--img-size must be a multiple of the patch size {patch_size}, got {img_size}')
    backbone.update(arch=arch, img_size=img_size)
    neck = model_cfg.get('neck')
    if neck is not None:
        params = init_parameters(MODELS.get(neck['type']))
        for key in ('embed_dim', 'in_channels'):  # MAE decoder / SimMIM decoder input width
            if key in params:
                neck[key] = vit_embed_dims(arch)
        if 'num_patches' in params:
            neck['num_patches'] = (img_size // patch_size) ** 2


@dataclass
class Built:
    method: Method
    model: torch.nn.Module
    optim_wrapper: object
    guided: bool
    eager_train_step: Callable  # the model's own train_step, also when ``train_step`` is compiled


def load_config(method: Method):
    """``method``'s config (an OpenMMLab package's with ``pkg::``, else famt_mm's) with its overrides."""
    from mmengine.config import Config
    from mmengine.hub import get_config

    if '::' in method.config:  # a config shipped inside an OpenMMLab package
        cfg = get_config(method.config)
    else:
        cfg = Config.fromfile(find_config(method.config))
    if method.cfg_options:
        cfg.merge_from_dict(method.cfg_options)
    return cfg


#: AdamW implementations the benchmarks set through the optimizer config, for both methods alike:
#: ``default`` is torch's own choice (a loop over tensors on CPU, ``foreach`` on CUDA), whatever the
#: config asks for (FAMT's configs ask for ``fused``, mmpretrain's MAE config for nothing)
OPTIMIZER_IMPLS = ('default', 'foreach', 'fused')


def configure_optim_wrapper(optim_cfg: dict, amp: bool, impl: str = 'default') -> dict:
    """The configs' optimizer wrapper as the benchmark runs it: AMP or fp32, and the AdamW kernels.

    Args:
        optim_cfg (dict): the config's ``optim_wrapper``, changed in place.
        amp (bool): keep (or make) mmengine's ``AmpOptimWrapper``; else a plain fp32 ``OptimWrapper``.
        impl (str): one of :data:`OPTIMIZER_IMPLS`; ``foreach`` / ``fused`` set that flag of
            ``torch.optim.AdamW`` (mmengine passes the optimizer's keys on to it). Both methods get
            ``FAMTOptimWrapperConstructor``, which drops ``fused`` with a warning where torch has no
            fused AdamW for the device (torch 2.1 on a CPU).
    """
    if impl not in OPTIMIZER_IMPLS:
        raise ValueError(f'optimizer implementation must be one of {OPTIMIZER_IMPLS}, got {impl!r}')
    if amp:
        optim_cfg.update(type='AmpOptimWrapper', loss_scale=optim_cfg.get('loss_scale', 'dynamic'))
    else:
        optim_cfg['type'] = 'OptimWrapper'
        optim_cfg.pop('loss_scale', None)
        optim_cfg.pop('dtype', None)
    # mmengine's default constructor, with fused AdamW only where torch has it (else a warning)
    optim_cfg['constructor'] = 'FAMTOptimWrapperConstructor'
    optimizer = optim_cfg['optimizer']
    optimizer.pop('foreach', None)
    optimizer.pop('fused', None)
    if impl != 'default':
        optimizer[impl] = True
    return optim_cfg


def build(method: Method, args, device: torch.device) -> Built:
    """Model and optimizer wrapper of ``method`` built from its config as mmengine's Runner does.

    With ``args.compile``, ``train_step`` is wrapped in ``torch.compile`` as the Runner's ``compile``
    option does, the data preprocessor and the optimizer step kept eager
    (:func:`.measure.eager_around_model`).
    """
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    cfg = load_config(method)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.to_dict()
    if 'data_preprocessor' not in model_cfg:  # as mmengine's Runner does
        model_cfg['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    shrink_model_cfg(model_cfg, args.arch, args.img_size)
    torch.manual_seed(args.seed)
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.to(device)
    model.train()

    optim_cfg = configure_optim_wrapper(
        cfg.optim_wrapper.to_dict(), args.amp, getattr(args, 'optimizer', 'default')
    )
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    eager_train_step = model.train_step
    if getattr(args, 'compile', False):
        eager_around_model(model, optim_wrapper)
        model.train_step = torch.compile(eager_train_step)  # as mmengine's Runner(compile=True)

    preprocessor = model.data_preprocessor
    generator = getattr(preprocessor, 'mask_generator', None)
    guided = bool(generator is not None and generator.needs_importance)
    if guided:  # maps as the refresh hook leaves them: one per sample_idx, on the patch grid
        grid = args.img_size // preprocessor.patch_size
        maps = torch.rand(
            args.batch_size * NUM_BATCHES, grid, grid, generator=torch.Generator().manual_seed(0)
        )
        preprocessor.importance_cache.set(maps + 0.05)
    return Built(method, model, optim_wrapper, guided, eager_train_step)


#: batches the timed steps cycle through: new sample indices, crop boxes and flips every step, so
#: that compiled code which specialised on them would show as recompilation
NUM_BATCHES = 4


def make_batch(
    batch_size: int, img_size: int, device: torch.device, seed: int = 0, first_idx: int = 0
) -> dict:
    """A uint8 batch with the metainfo guided masking reads (sample_idx, crop box, flip)."""
    from mmpretrain.structures import DataSample

    rng = np.random.RandomState(seed)
    inputs = torch.from_numpy(rng.randint(0, 256, (batch_size, 3, img_size, img_size), dtype=np.uint8)).to(
        device
    )
    samples = []
    for i in range(batch_size):
        x0, y0 = rng.uniform(0, 0.4, 2)
        x1, y1 = rng.uniform(0.6, 1.0, 2)
        samples.append(
            DataSample(
                metainfo=dict(
                    sample_idx=first_idx + i,
                    crop_box=np.array([x0, y0, x1, y1], dtype=np.float32),
                    flip=bool((i + seed) % 2),
                    flip_direction='horizontal',
                )
            )
        )
    return dict(inputs=inputs, data_samples=samples)


# ------------------------------------------------------------------------------------ one pair
def run_pair(key: str, args, device: torch.device, log: Callable[[str], None]) -> dict:
    attention_pair = key in ATTENTION_PAIRS
    baseline, famt = (build(m, args, device) for m in pair_methods(key))
    if not famt.guided and not attention_pair:
        raise TypeError(f'{famt.method.name}: its preprocessor has no guided mask generator')
    methods = [baseline, famt]
    batches = [
        make_batch(args.batch_size, args.img_size, device, args.seed + j, first_idx=j * args.batch_size)
        for j in range(NUM_BATCHES)
    ]
    batch = batches[0]

    def step(built: Built, eager: bool = False, it: int = 0):
        fn = built.eager_train_step if eager else built.model.train_step
        data = batches[it % NUM_BATCHES]
        return lambda: fn(data, built.optim_wrapper)

    log(f'[{key}] counting FLOPs of one training step per method')
    flops = {b.method.name: count_flops(step(b, eager=True)) for b in methods}

    log(f'[{key}] {args.warmup} warm-up + {args.iters} timed steps per method, alternating')
    times: Dict[str, List[float]] = {b.method.name: [] for b in methods}
    compiles = {}
    for it in range(args.warmup + args.iters):
        if it == args.warmup:
            compiles['after_warmup'] = compile_counts()
        last = {}
        for built in methods if it % 2 == 0 else methods[::-1]:  # ABBA: no side always first
            last[built.method.name] = timed(step(built, it=it), device)
            if it >= args.warmup:
                times[built.method.name].append(last[built.method.name])
        log(
            f'  step {it + 1}/{args.warmup + args.iters}: '
            + ', '.join(f'{name} {s:.3f} s' for name, s in last.items())
            + (' (warm-up)' if it < args.warmup else '')
        )
    compiles['after_timed'] = compile_counts()

    log(f'[{key}] peak memory of one step per method')
    memory = {b.method.name: peak_memory(step(b), device) for b in methods}
    profiles = {}
    if args.profile:
        log(f'[{key}] profiling one step per method')
        profiles = {b.method.name: profile_step(step(b), b.model, b.optim_wrapper, device) for b in methods}

    # the refresh hook's scoring path against plain inference, on the same whole images: of the FAMT
    # method, and of both methods of an attention pair that masks guided (ViT against X-ViT)
    scored = [b for b in ((baseline, famt) if attention_pair else (famt,)) if b.guided]
    refresh = refresh_figures(scored, args, device, log, key) if scored else {}

    plan_times = []
    if famt.guided:  # the throwing preprocessor's own work on the guided training batch
        preprocessor = famt.model.data_preprocessor
        train_inputs = preprocessor(batch, training=False)['inputs']
        for it in range(args.warmup + args.iters):
            seconds = timed(
                lambda: preprocessor.sample_mask_plan(train_inputs, batch['data_samples']), device
            )
            if it >= args.warmup:
                plan_times.append(seconds)

    base_name, famt_name = baseline.method.name, famt.method.name
    step_median = {n: statistics.median(t) for n, t in times.items()}
    result = dict(
        methods={
            b.method.name: dict(
                config=b.method.config,
                cfg_options=b.method.cfg_options,
                train_step_flops=flops[b.method.name],
                step_time=summary(times[b.method.name]),
                images_per_s=args.batch_size / step_median[b.method.name],
                memory=memory[b.method.name],
            )
            for b in methods
        },
        baseline=base_name,
        famt=famt_name,
        flops_ratio=flops[famt_name] / flops[base_name],
        time_ratio=step_median[famt_name] / step_median[base_name],
        ratio_name='X-ViT / ViT' if attention_pair else 'FAMT / baseline',
    )
    if famt.method.name in refresh:
        result['refresh'] = refresh[famt.method.name]
    if attention_pair and len(refresh) == 2:
        result['refresh_baseline'] = refresh[base_name]
        # seconds per scored image, X-ViT over ViT
        result['refresh_time_ratio'] = (
            refresh[base_name]['scoring']['images_per_s'] / refresh[famt_name]['scoring']['images_per_s']
        )
    if plan_times:
        result['preprocessor'] = dict(
            sample_mask_plan=summary(plan_times),
            share_of_famt_step=statistics.median(plan_times) / step_median[famt_name],
        )
    if profiles:
        result['profile'] = profiles
    if getattr(args, 'compile', False):
        # guarded code is reused when nothing new was compiled during the timed steps
        result['compile'] = dict(
            **compiles,
            recompiled_during_timed_steps=(
                compiles['after_timed'] != compiles.get('after_warmup', compiles['after_timed'])
            ),
        )
    return result


def refresh_figures(
    methods: List[Built], args, device: torch.device, log: Callable[[str], None], key: str
) -> Dict[str, dict]:
    """Images/s of the refresh hook's scoring (``score_images``: last-block attention + the mask
    generator's ``importance``) and of plain inference (``extract_feat``) on the same whole images,
    per method, all of them timed in turns (the order reversed every other round)."""
    from mmengine.runner.amp import autocast

    from famt_mm.models import score_images

    score_batch = make_batch(args.score_batch_size, args.img_size, device, args.seed + 1)
    fns, flops = {}, {}
    for built in methods:
        model, preprocessor = built.model, built.model.data_preprocessor
        images = preprocessor(score_batch, training=False)['inputs']
        # a fresh context per call, as the refresh hook enters autocast per batch
        amp = (lambda b=built: autocast(dtype=b.optim_wrapper.cast_dtype)) if args.amp else nullcontext

        @torch.no_grad()
        def score(model=model, images=images, generator=preprocessor.mask_generator, amp=amp):
            with amp():
                return score_images(model, images, generator)

        @torch.no_grad()
        def plain(model=model, images=images, amp=amp):
            with amp():
                return model.extract_feat(images)

        fns[(built.method.name, 'scoring')] = score
        fns[(built.method.name, 'plain_inference')] = plain

    log(f'[{key}] refresh scoring vs plain inference, batch {args.score_batch_size}')
    for built in methods:
        built.model.eval()
    for name_kind, fn in fns.items():
        flops[name_kind] = count_flops(fn)
    times = {name_kind: [] for name_kind in fns}
    order = list(fns)
    for it in range(args.warmup + args.iters):
        for name_kind in order if it % 2 == 0 else order[::-1]:
            seconds = timed(fns[name_kind], device)
            if it >= args.warmup:
                times[name_kind].append(seconds)
    for built in methods:
        built.model.train()

    out = {}
    for built in methods:
        name = built.method.name
        figures = {
            kind: dict(
                images_per_s=args.score_batch_size / statistics.median(times[(name, kind)]),
                flops=flops[(name, kind)],
                **summary(times[(name, kind)]),
            )
            for kind in ('scoring', 'plain_inference')
        }
        ratio = figures['scoring']['images_per_s'] / figures['plain_inference']['images_per_s']
        out[name] = dict(batch_size=args.score_batch_size, **figures, ratio=ratio)
    return out


#: figures of a pair's result a tool may bound (the bounds come from its command line; docs/speed.md
#: names the ones the project uses)
LIMITS = (
    Limit('max-time-ratio', 'step time ratio', lambda r: r['time_ratio']),
    Limit(
        'max-time-flops-gap',
        '|step time ratio - FLOPs ratio|',
        lambda r: abs(r['time_ratio'] - r['flops_ratio']),
    ),
    Limit(
        'min-refresh-ratio',
        'refresh scoring / plain inference images/s',
        lambda r: r['refresh']['ratio'],
        upper=False,
    ),
    Limit(
        'max-preprocessor-share',
        "sample_mask_plan's share of the FAMT step",
        lambda r: r['preprocessor']['share_of_famt_step'],
    ),
)
