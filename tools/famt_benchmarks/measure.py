"""Measuring helpers of the benchmarks: wall time, FLOPs, peak memory, profiles, the machine."""

import ctypes
import datetime
import json
import os
import platform
import resource
import statistics
import sys
import time
from typing import Callable, List, Optional, Sequence, Tuple

import torch


def log(msg: str) -> None:
    """Print a progress line at once: the benchmarks run for minutes."""
    print(msg, flush=True)


def start_run(tool: str, argv: Optional[Sequence[str]]) -> Tuple[datetime.datetime, str]:
    """Start a benchmark tool's run: register famt_mm's modules and make a fresh WARNING-level
    logger mmengine's current one (it quiets the optimizer and init reports of every model built).

    Returns the start time and the command line as the user would retype it.
    """
    from mmengine.logging import MMLogger

    import famt_mm  # noqa: F401  (registers the FAMT modules)

    MMLogger.get_instance(f'famt_{tool}_{time.time_ns()}', log_level='WARNING')
    args = argv if argv is not None else sys.argv[1:]
    return datetime.datetime.now().astimezone(), f'python tools/{tool}.py ' + ' '.join(args)


def write_results(results: dict, started: datetime.datetime, out: str) -> None:
    """Add the run's wall time to ``results`` and write them to ``out`` as JSON."""
    results['wall_s'] = (datetime.datetime.now().astimezone() - started).total_seconds()
    with open(out, 'w') as f:
        json.dump(results, f, indent=2)


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
        math_backend = torch.backends.cuda.sdp_kernel(
            enable_flash=False, enable_math=True, enable_mem_efficient=False
        )
    with math_backend, FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def eager_around_model(model: torch.nn.Module, optim_wrapper) -> None:
    """Keep the data preprocessor and the optimizer step out of ``torch.compile`` of ``train_step``
    (a graph break around each; forward and backward are compiled), as famt_mm's preprocessor and
    optimizer constructor do for its own configs (why: docs/speed.md, "Compile"). Applied by the
    benchmarks to both methods alike, mmpretrain's stock MAE included.
    """
    for owner, attr in ((model.data_preprocessor, 'forward'), (optim_wrapper, 'step')):
        fn = getattr(owner, attr)
        if not getattr(fn, '_famt_eager', False):
            eager = torch.compiler.disable(fn)
            eager._famt_eager = True
            setattr(owner, attr, eager)


def compile_counts() -> dict:
    """Frames torch.compile (dynamo) has converted so far and the graphs it made: unchanged between
    two calls means every step in between ran already-compiled code (no recompilation)."""
    from torch._dynamo.utils import counters

    return dict(frames=int(counters['frames']['total']), graphs=int(counters['stats']['unique_graphs']))


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
        return dict(
            kind='process peak RSS so far (no per-step reset on this OS)', peak_bytes=peak, step_bytes=None
        )
    return dict(kind='process peak RSS during the step', peak_bytes=peak, step_bytes=peak - before)


def _labelled(fn: Callable, label: str) -> Callable:
    def wrapper(*args, **kwargs):
        with torch.profiler.record_function(label):
            return fn(*args, **kwargs)

    return wrapper


def profile_step(fn: Callable[[], object], model, optim_wrapper, device: torch.device, top: int = 12) -> dict:
    """One training step under torch.profiler: time per phase and the ops with most self time.

    The phases (preprocessor, forward + loss, backward, optimizer step with gradient clipping inside
    it, zero grad) are labelled by wrapping the model's and the optimizer wrapper's own methods for
    the duration of the step; a phase that did not run (no clipping configured) is absent.
    """
    from torch.profiler import ProfilerActivity, profile

    # what does not shrink with the token count is labelled apart: the optimizer step (gradient
    # clipping inside it, when configured) and zeroing the gradients
    targets = [
        (model.data_preprocessor, 'forward', 'preprocessor'),
        (model, 'forward', 'forward + loss'),
        (optim_wrapper, 'backward', 'backward'),
        (optim_wrapper, 'step', 'optimizer step'),
        (optim_wrapper, '_clip_grad', '  of which gradient clipping'),
        (optim_wrapper, 'zero_grad', 'zero grad'),
    ]
    saved = [(obj, attr, vars(obj).get(attr)) for obj, attr, _ in targets]
    for obj, attr, label in targets:
        setattr(obj, attr, _labelled(getattr(obj, attr), f'phase: {label}'))
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == 'cuda' else [])
    try:
        with profile(activities=activities) as prof:
            fn()
            synchronize(device)
    finally:
        for obj, attr, before in saved:  # back to what was there: an instance's or the class's
            if before is None:
                delattr(obj, attr)
            else:
                setattr(obj, attr, before)
    on_device = device.type == 'cuda'

    def total(e):
        return getattr(e, 'device_time_total', 0) if on_device else e.cpu_time_total

    def self_time(e):
        return getattr(e, 'self_device_time_total', 0) if on_device else e.self_cpu_time_total

    events = prof.key_averages()
    phases = {e.key[len('phase: ') :]: total(e) / 1e6 for e in events if e.key.startswith('phase: ')}
    ops = sorted((e for e in events if not e.key.startswith('phase: ')), key=self_time, reverse=True)
    return dict(
        clock='device' if on_device else 'cpu',
        phases_s=phases,
        top_ops=[dict(op=e.key, self_s=self_time(e) / 1e6, calls=e.count) for e in ops[:top]],
    )


def summary(seconds: List[float]) -> dict:
    return dict(
        median_s=statistics.median(seconds),
        min_s=min(seconds),
        max_s=max(seconds),
        n=len(seconds),
        all_s=seconds,
    )


#: distributions whose versions :func:`machine_info` records, where installed
STACK = ('mmengine', 'mmcv', 'mmcv-lite', 'mmpretrain', 'numpy', 'torchvision')


def machine_info(device: torch.device) -> dict:
    """Platform, Python, torch and the OpenMMLab stack's versions, cores, and the device's name."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    info = dict(
        platform=platform.platform(),
        python=platform.python_version(),
        torch=torch.__version__,
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        device=str(device),
        packages={name: v for name in STACK if (v := installed(name)) is not None},
    )
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
        info['cuda'] = torch.version.cuda
    else:
        try:
            with open('/proc/cpuinfo') as f:
                info['cpu'] = next(
                    line.split(':', 1)[1].strip() for line in f if line.startswith('model name')
                )
        except (OSError, StopIteration):
            info['cpu'] = platform.processor()
    return info
