"""Side-by-side training-step benchmark: stock mmpretrain MAE against FAMT-MAE, in one process.

    python tools/benchmark.py [--arch b] [--img-size 224] [--batch-size 8] [--iters 10] [--warmup 2]
        [--device cpu|cuda] [--amp] [--pairs mae] [--out benchmark.json]

Both models are built from their configs (mmpretrain's stock MAE config and configs/famt/*.py),
shrunk only where the options say (ViT arch, input size). After ``--warmup`` untimed steps the
methods take turns, one training step each (ABBA order), on the same synthetic batch; FAMT's
preprocessor holds importance maps, so its steps are guided (masking 0.45, throwing 0.40). Reported
per method:

- FLOPs of one training step (forward + backward; torch.utils.flop_counter.FlopCounterMode) and the
  ratio FAMT / baseline;
- training-step time (preprocessor, forward, backward, optimizer step: mmengine's ``train_step``),
  median over ``--iters``, and the ratio of the medians;
- peak memory of one step: ``torch.cuda.max_memory_allocated`` on GPU; on CPU the process's peak RSS
  (``resource.getrusage``, with the kernel's high-water mark reset before the step), both also as
  the increase over the memory held before the step;
- for the FAMT method: images/s of the refresh hook's scoring pass (``score_images``: last-block attention + the
  mask generator's ``importance``) against plain encoder inference (``extract_feat``) on the same
  images, and the time of ``FAMTDataPreprocessor.sample_mask_plan`` (warp + sampling) on the guided
  batch as a share of the FAMT step.

A table goes to stdout, everything (with the machine and the date) to ``--out`` as JSON.
"""
import argparse
import ctypes
import datetime
import inspect
import json
import os
import os.path as osp
import platform
import resource
import statistics
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:  # run from anywhere without installing
    sys.path.insert(0, ROOT)


@dataclass
class Method:
    """One side of a comparison: a config, plus optional overrides (``Config.merge_from_dict``)."""
    name: str
    config: str
    cfg_options: dict = field(default_factory=dict)


#: the comparisons; each is (baseline, FAMT), built from configs
PAIRS: Dict[str, Tuple[Method, Method]] = {
    'mae': (Method('MAE (random 0.75)',
                   'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'),
            Method('FAMT-MAE (0.45 / 0.40)', 'configs/famt/mae_vitb_in1k.py')),
    # SimMIM encodes every position it does not throw, so the baseline's mask ratio does not change
    # its cost: SimMIM's own random 0.6 without throwing, on the same ViT-B model class
    'simmim': (Method('SimMIM ViT-B (random 0.6, no throw)', 'configs/famt/simmim_vitb_in1k.py',
                      {'data_preprocessor.mask_generator': dict(
                          _delete_=True, type='RandomMaskGenerator', mask_ratio=0.6,
                          throw_ratio=0.0)}),
               Method('FAMT-SimMIM ViT-B (0.44 / 0.26)', 'configs/famt/simmim_vitb_in1k.py')),
}

#: targets of issue 6, measured on ViT-B/16
TARGETS = dict(max_time_ratio=0.65, time_vs_flops_tolerance=0.05, min_refresh_ratio=0.9,
               max_preprocessor_share=0.01)


# ------------------------------------------------------------------------------------ measuring
def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device) -> float:
    """Wall time of ``fn()`` in seconds, with the device's queue drained before and after."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of ``fn()`` as counted by torch's FlopCounterMode.

    Attention runs on the math backend while counting: CPU's fused SDPA kernel has no FLOP formula
    in torch; the math path is plain matmuls, counted like the fused GPU kernels' formula.
    """
    from torch.utils.flop_counter import FlopCounterMode
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        math_backend = sdpa_kernel([SDPBackend.MATH])
    except ImportError:  # torch < 2.3 (famt_mm supports 2.1): the older switch, global to all devices
        math_backend = torch.backends.cuda.sdp_kernel(enable_flash=False, enable_math=True,
                                                      enable_mem_efficient=False)
    with math_backend, FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def _rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def _reset_rss_peak() -> bool:
    """Give freed heap back to the OS and reset the kernel's RSS high-water mark (Linux >= 4.0)."""
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def peak_memory(fn: Callable[[], object], device: torch.device) -> dict:
    """Peak memory while running ``fn()`` once, absolute and above what was held before it."""
    if device.type == 'cuda':
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        synchronize(device)
        peak = torch.cuda.max_memory_allocated(device)
        return dict(kind='cuda max_memory_allocated', peak_bytes=peak, step_bytes=peak - before)
    per_step = _reset_rss_peak()
    before = _rss_bytes() if per_step else None
    fn()
    # ru_maxrss is in KiB on Linux
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if not per_step:  # no reset possible: the process's peak so far, not this step's
        return dict(kind='process peak RSS so far (no per-step reset on this OS)', peak_bytes=peak,
                    step_bytes=None)
    return dict(kind='process peak RSS during the step', peak_bytes=peak, step_bytes=peak - before)


def _labelled(fn: Callable, label: str) -> Callable:
    def wrapper(*args, **kwargs):
        with torch.profiler.record_function(label):
            return fn(*args, **kwargs)
    return wrapper


def profile_step(fn: Callable[[], object], model, optim_wrapper, device: torch.device,
                 top: int = 12) -> dict:
    """One training step under torch.profiler: time per phase and the ops with most self time.

    The phases (preprocessor, forward + loss, backward, optimizer step) are labelled by wrapping the
    model's and the optimizer wrapper's own methods for the duration of the step.
    """
    from torch.profiler import ProfilerActivity, profile
    targets = [(model.data_preprocessor, 'forward', 'preprocessor'), (model, 'forward', 'forward + loss'),
               (optim_wrapper, 'backward', 'backward'), (optim_wrapper, 'step', 'optimizer step')]
    for obj, attr, label in targets:
        setattr(obj, attr, _labelled(getattr(obj, attr), f'phase: {label}'))
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == 'cuda' else [])
    try:
        with profile(activities=activities) as prof:
            fn()
            synchronize(device)
    finally:
        for obj, attr, _ in targets:
            delattr(obj, attr)  # back to the class's method
    on_device = device.type == 'cuda'

    def total(e):
        return getattr(e, 'device_time_total', 0) if on_device else e.cpu_time_total

    def self_time(e):
        return getattr(e, 'self_device_time_total', 0) if on_device else e.self_cpu_time_total

    events = prof.key_averages()
    phases = {e.key[len('phase: '):]: total(e) / 1e6 for e in events if e.key.startswith('phase: ')}
    ops = sorted((e for e in events if not e.key.startswith('phase: ')), key=self_time, reverse=True)
    return dict(clock='device' if on_device else 'cpu', phases_s=phases,
                top_ops=[dict(op=e.key, self_s=self_time(e) / 1e6, calls=e.count) for e in ops[:top]])


def summary(seconds: List[float]) -> dict:
    return dict(median_s=statistics.median(seconds), min_s=min(seconds), max_s=max(seconds),
                n=len(seconds), all_s=seconds)


# ------------------------------------------------------------------------------------ building
def vit_embed_dims(arch: str) -> int:
    from mmpretrain.models import VisionTransformer
    if arch not in VisionTransformer.arch_zoo:
        raise ValueError(f'--arch must be one of mmpretrain\'s ViT archs '
                         f'{sorted(VisionTransformer.arch_zoo)}, got {arch!r}')
    return VisionTransformer.arch_zoo[arch]['embed_dims']


def shrink_model_cfg(model_cfg: dict, arch: str, img_size: int) -> None:
    """Set the encoder's arch and input size and make the neck follow (embed dims, patch count)."""
    from mmpretrain.registry import MODELS
    backbone = model_cfg['backbone']
    patch_size = backbone.get('patch_size', 16)
    if img_size % patch_size:
        raise ValueError(f'--img-size must be a multiple of the patch size {patch_size}, '
                         f'got {img_size}')
    backbone.update(arch=arch, img_size=img_size)
    neck = model_cfg.get('neck')
    if neck is not None:
        params = inspect.signature(MODELS.get(neck['type']).__init__).parameters
        for key in ('embed_dim', 'in_channels'):  # MAE decoder / SimMIM decoder input width
            if key in params:
                neck[key] = vit_embed_dims(arch)
        if 'num_patches' in params:
            neck['num_patches'] = (img_size // patch_size)**2


@dataclass
class Built:
    method: Method
    model: torch.nn.Module
    optim_wrapper: object
    guided: bool


def build(method: Method, args, device: torch.device) -> Built:
    """Model and optimizer wrapper of ``method`` built from its config as mmengine's Runner does."""
    from mmengine.config import Config
    from mmengine.hub import get_config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    if '::' in method.config:  # a config shipped inside an OpenMMLab package
        cfg = get_config(method.config)
    else:
        cfg = Config.fromfile(osp.join(ROOT, method.config))
    if method.cfg_options:
        cfg.merge_from_dict(method.cfg_options)
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

    optim_cfg = cfg.optim_wrapper.to_dict()
    if args.amp:
        optim_cfg.update(type='AmpOptimWrapper', loss_scale=optim_cfg.get('loss_scale', 'dynamic'))
    else:
        optim_cfg['type'] = 'OptimWrapper'
        optim_cfg.pop('loss_scale', None)
        optim_cfg.pop('dtype', None)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)

    preprocessor = model.data_preprocessor
    generator = getattr(preprocessor, 'mask_generator', None)
    guided = bool(generator is not None and generator.needs_importance)
    if guided:  # maps as the refresh hook leaves them: one per sample_idx, on the patch grid
        grid = args.img_size // preprocessor.patch_size
        maps = torch.rand(args.batch_size, grid, grid, generator=torch.Generator().manual_seed(0))
        preprocessor.set_importance_maps(maps + 0.05)
    return Built(method, model, optim_wrapper, guided)


def make_batch(batch_size: int, img_size: int, device: torch.device, seed: int = 0) -> dict:
    """A fixed uint8 batch with the metainfo guided masking reads (sample_idx, crop box, flip)."""
    from mmpretrain.structures import DataSample
    rng = np.random.RandomState(seed)
    inputs = torch.from_numpy(rng.randint(0, 256, (batch_size, 3, img_size, img_size),
                                          dtype=np.uint8)).to(device)
    samples = []
    for i in range(batch_size):
        x0, y0 = rng.uniform(0, 0.4, 2)
        x1, y1 = rng.uniform(0.6, 1.0, 2)
        samples.append(DataSample(metainfo=dict(
            sample_idx=i, crop_box=np.array([x0, y0, x1, y1], dtype=np.float32),
            flip=bool(i % 2), flip_direction='horizontal')))
    return dict(inputs=inputs, data_samples=samples)


# ------------------------------------------------------------------------------------ one pair
def run_pair(key: str, args, device: torch.device, log: Callable[[str], None]) -> dict:
    from mmengine.runner.amp import autocast
    from famt_mm.models import score_images

    baseline, famt = (build(m, args, device) for m in PAIRS[key])
    if not famt.guided:
        raise TypeError(f'{famt.method.name}: its preprocessor has no guided mask generator')
    methods = [baseline, famt]
    batch = make_batch(args.batch_size, args.img_size, device, args.seed)

    def step(built: Built):
        return lambda: built.model.train_step(batch, built.optim_wrapper)

    log(f'[{key}] counting FLOPs of one training step per method')
    flops = {b.method.name: count_flops(step(b)) for b in methods}

    log(f'[{key}] {args.warmup} warm-up + {args.iters} timed steps per method, alternating')
    times: Dict[str, List[float]] = {b.method.name: [] for b in methods}
    for it in range(args.warmup + args.iters):
        last = {}
        for built in (methods if it % 2 == 0 else methods[::-1]):  # ABBA: no side always first
            last[built.method.name] = timed(step(built), device)
            if it >= args.warmup:
                times[built.method.name].append(last[built.method.name])
        log(f'  step {it + 1}/{args.warmup + args.iters}: ' +
            ', '.join(f'{name} {s:.3f} s' for name, s in last.items()) +
            (' (warm-up)' if it < args.warmup else ''))

    log(f'[{key}] peak memory of one step per method')
    memory = {b.method.name: peak_memory(step(b), device) for b in methods}
    profiles = {}
    if args.profile:
        log(f'[{key}] profiling one step per method')
        profiles = {b.method.name: profile_step(step(b), b.model, b.optim_wrapper, device)
                    for b in methods}

    # the refresh hook's scoring path against plain inference, on the same whole images
    model, preprocessor = famt.model, famt.model.data_preprocessor
    generator = preprocessor.mask_generator
    score_batch = make_batch(args.score_batch_size, args.img_size, device, args.seed + 1)
    images = preprocessor(score_batch, training=False)['inputs']
    # a fresh context per call, as the refresh hook enters autocast per batch
    amp = (lambda: autocast(dtype=famt.optim_wrapper.cast_dtype)) if args.amp else nullcontext

    @torch.no_grad()
    def score():
        with amp():
            return score_images(model, images, generator)

    @torch.no_grad()
    def plain():
        with amp():
            return model.extract_feat(images)

    log(f'[{key}] refresh scoring vs plain inference, batch {args.score_batch_size}')
    model.eval()
    score_flops, plain_flops = count_flops(score), count_flops(plain)
    score_times, plain_times = [], []
    for it in range(args.warmup + args.iters):
        pair = [(score, score_times), (plain, plain_times)]
        for fn, sink in (pair if it % 2 == 0 else pair[::-1]):
            seconds = timed(fn, device)
            if it >= args.warmup:
                sink.append(seconds)
    model.train()

    # the throwing preprocessor's own work on the guided training batch: warp + sampling
    train_inputs = preprocessor(batch, training=False)['inputs']
    plan_times = []
    for it in range(args.warmup + args.iters):
        seconds = timed(lambda: preprocessor.sample_mask_plan(train_inputs, batch['data_samples']),
                        device)
        if it >= args.warmup:
            plan_times.append(seconds)

    base_name, famt_name = baseline.method.name, famt.method.name
    step_median = {n: statistics.median(t) for n, t in times.items()}
    score_ips = args.score_batch_size / statistics.median(score_times)
    plain_ips = args.score_batch_size / statistics.median(plain_times)
    result = dict(
        methods={b.method.name: dict(config=b.method.config, cfg_options=b.method.cfg_options,
                                     train_step_flops=flops[b.method.name],
                                     step_time=summary(times[b.method.name]),
                                     memory=memory[b.method.name])
                 for b in methods},
        baseline=base_name,
        famt=famt_name,
        flops_ratio=flops[famt_name] / flops[base_name],
        time_ratio=step_median[famt_name] / step_median[base_name],
        refresh=dict(batch_size=args.score_batch_size,
                     scoring=dict(images_per_s=score_ips, flops=score_flops,
                                  **summary(score_times)),
                     plain_inference=dict(images_per_s=plain_ips, flops=plain_flops,
                                          **summary(plain_times)),
                     ratio=score_ips / plain_ips),
        preprocessor=dict(
            sample_mask_plan=summary(plan_times),
            share_of_famt_step=statistics.median(plan_times) / step_median[famt_name]),
    )
    if profiles:
        result['profile'] = profiles
    result['targets'] = check_targets(result)
    return result


def check_targets(result: dict) -> dict:
    t = TARGETS
    gap = abs(result['time_ratio'] - result['flops_ratio'])
    return {
        f'time ratio <= {t["max_time_ratio"]}': result['time_ratio'] <= t['max_time_ratio'],
        f'|time ratio - FLOPs ratio| <= {t["time_vs_flops_tolerance"]}':
            gap <= t['time_vs_flops_tolerance'],
        f'refresh >= {t["min_refresh_ratio"]} x plain inference':
            result['refresh']['ratio'] >= t['min_refresh_ratio'],
        f'preprocessor <= {t["max_preprocessor_share"]:.0%} of the step':
            result['preprocessor']['share_of_famt_step'] <= t['max_preprocessor_share'],
    }


# ------------------------------------------------------------------------------------ report
def _mib(value: Optional[int]) -> str:
    return '-' if value is None else f'{value / 2**20:,.0f}'


def format_table(key: str, r: dict) -> str:
    base, famt = r['methods'][r['baseline']], r['methods'][r['famt']]
    rows = [
        ('train-step GFLOPs', f'{base["train_step_flops"] / 1e9:,.1f}',
         f'{famt["train_step_flops"] / 1e9:,.1f}', f'{r["flops_ratio"]:.3f}'),
        ('step time, median s', f'{base["step_time"]["median_s"]:.3f}',
         f'{famt["step_time"]["median_s"]:.3f}', f'{r["time_ratio"]:.3f}'),
        ('step time, min-max s',
         f'{base["step_time"]["min_s"]:.3f}-{base["step_time"]["max_s"]:.3f}',
         f'{famt["step_time"]["min_s"]:.3f}-{famt["step_time"]["max_s"]:.3f}', ''),
        ('peak memory MiB', _mib(base['memory']['peak_bytes']), _mib(famt['memory']['peak_bytes']),
         ''),
        ('  of which the step MiB', _mib(base['memory']['step_bytes']),
         _mib(famt['memory']['step_bytes']),
         '' if base['memory']['step_bytes'] in (None, 0) or famt['memory']['step_bytes'] is None
         else f'{famt["memory"]["step_bytes"] / base["memory"]["step_bytes"]:.3f}'),
    ]
    refresh, pre = r['refresh'], r['preprocessor']
    lines = [f'| {key} | {r["baseline"]} | {r["famt"]} | FAMT / baseline |', '|---|---:|---:|---:|']
    lines += [f'| {a} | {b} | {c} | {d} |' for a, b, c, d in rows]
    lines += [
        '',
        f'refresh scoring (last-block attention + importance): '
        f'{refresh["scoring"]["images_per_s"]:.2f} images/s; plain inference '
        f'{refresh["plain_inference"]["images_per_s"]:.2f} images/s; ratio {refresh["ratio"]:.3f} '
        f'(batch {refresh["batch_size"]})',
        f'preprocessor sample_mask_plan (warp + sampling): '
        f'{pre["sample_mask_plan"]["median_s"] * 1e3:.2f} ms = '
        f'{pre["share_of_famt_step"]:.2%} of the FAMT step',
        f'memory: {base["memory"]["kind"]}',
    ]
    if 'profile' in r:
        lines += ['', format_profile(r)]
    lines += [
        '',
        'targets: ' + '; '.join(f'{name}: {"met" if ok else "MISSED"}'
                                for name, ok in r['targets'].items()),
    ]
    return '\n'.join(lines)


def format_profile(r: dict) -> str:
    """Phase times of the profiled step side by side, then each method's top ops by self time."""
    base, famt = r['profile'][r['baseline']], r['profile'][r['famt']]
    lines = [f'| profiled step ({base["clock"]} time) | {r["baseline"]} s | {r["famt"]} s | ratio |',
             '|---|---:|---:|---:|']
    for phase, seconds in base['phases_s'].items():
        other = famt['phases_s'].get(phase, 0.0)
        ratio = f'{other / seconds:.3f}' if seconds > 0 else ''
        lines.append(f'| {phase} | {seconds:.3f} | {other:.3f} | {ratio} |')
    for name in (r['baseline'], r['famt']):
        ops = r['profile'][name]['top_ops']
        lines += ['', f'{name}: ops with most self time',
                  *(f'  {o["self_s"]:8.3f} s  {o["calls"]:6d} x  {o["op"]}' for o in ops)]
    return '\n'.join(lines)


def machine_info(device: torch.device) -> dict:
    info = dict(platform=platform.platform(), python=platform.python_version(),
                torch=torch.__version__, cpu_count=os.cpu_count(),
                torch_threads=torch.get_num_threads(), device=str(device))
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
    else:
        try:
            with open('/proc/cpuinfo') as f:
                info['cpu'] = next(line.split(':', 1)[1].strip() for line in f
                                   if line.startswith('model name'))
        except (OSError, StopIteration):
            info['cpu'] = platform.processor()
    return info


# ------------------------------------------------------------------------------------ entry point
def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', default='b',
                        help="mmpretrain ViT arch of the encoder ('b' = ViT-B)")
    parser.add_argument('--img-size', type=int, default=224, help='input size in pixels')
    parser.add_argument('--batch-size', type=int, default=8, help='training batch size')
    parser.add_argument('--score-batch-size', type=int, default=None,
                        help='batch of the refresh scoring comparison (default: --batch-size)')
    parser.add_argument('--iters', type=int, default=10, help='timed steps per method')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps per method first')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', action='store_true',
                        help="mixed precision as the configs' AmpOptimWrapper (GPU only)")
    parser.add_argument('--pairs', nargs='+', default=list(PAIRS), help=f'of {list(PAIRS)}')
    parser.add_argument('--profile', action='store_true',
                        help='also profile one step per method (phases and top ops)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='benchmark.json', help='JSON file to write')
    args = parser.parse_args(argv)
    for name in ('img_size', 'batch_size', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {getattr(args, name)}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    if args.score_batch_size is None:
        args.score_batch_size = args.batch_size
    elif args.score_batch_size < 1:
        parser.error(f'--score-batch-size must be >= 1, got {args.score_batch_size}')
    unknown = [p for p in args.pairs if p not in PAIRS]
    if unknown:
        parser.error(f'--pairs must name pairs of {list(PAIRS)}, got {unknown}')
    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        parser.error(f'--device: {e}')
    if device.type not in ('cpu', 'cuda'):
        parser.error(f"--device must be 'cpu' or 'cuda[:N]', got {args.device!r}")
    if device.type == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device is available here')
    if args.amp and device.type != 'cuda':
        parser.error("--amp needs --device cuda (mmengine's AmpOptimWrapper runs on GPUs only)")
    try:
        vit_embed_dims(args.arch)
    except ValueError as e:
        parser.error(str(e))
    args.device = device
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    import famt_mm  # noqa: F401  (registers the FAMT modules)
    from mmengine.logging import MMLogger
    # a fresh WARNING-level logger becomes mmengine's current one: quiet optimizer/init reports
    MMLogger.get_instance(f'famt_benchmark_{time.time_ns()}', log_level='WARNING')

    def log(msg: str) -> None:
        print(msg, flush=True)

    started = datetime.datetime.now().astimezone()
    results = dict(
        command='python tools/benchmark.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
        date=started.isoformat(timespec='seconds'),
        machine=machine_info(args.device),
        settings=dict(arch=args.arch, img_size=args.img_size, batch_size=args.batch_size,
                      score_batch_size=args.score_batch_size, iters=args.iters,
                      warmup=args.warmup, amp=args.amp, seed=args.seed,
                      torch_threads=torch.get_num_threads()),
        targets=TARGETS,
        pairs={})
    for key in args.pairs:
        results['pairs'][key] = run_pair(key, args, args.device, log)
        log('')
        log(format_table(key, results['pairs'][key]))
        log('')
    results['wall_s'] = (datetime.datetime.now().astimezone() - started).total_seconds()
    with open(args.out, 'w') as f:
        json.dump(results, f, indent=2)
    log(f'{results["machine"].get("gpu") or results["machine"].get("cpu")}, torch '
        f'{torch.__version__}, {args.arch} {args.img_size} px, batch {args.batch_size}, '
        f'{args.iters} timed steps after {args.warmup} warm-up; written to {args.out}')
    return results


if __name__ == '__main__':
    main()
