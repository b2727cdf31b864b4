"""What the benchmark tools print: the tables of the step and end-to-end comparisons, the GPU kit's
one JSON and one markdown table, and optional bounds a tool checks on its figures.

Formatting only: the figures come from ``step`` and ``e2e``. No bound is built in: a tool checks a
figure against a bound only when its command line gives one (:class:`Limit`).
"""

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence


# ------------------------------------------------------------------------------------ bounds
@dataclass(frozen=True)
class Limit:
    """A bound on one figure of a pair's result, checked when the tool's option ``--<option>`` is given.

    Args:
        option (str): the option's name without dashes, e.g. ``max-time-ratio``.
        figure (str): what is bounded, in words (printed with the verdict).
        read (callable): the figure from one pair's result dict.
        upper (bool): ``figure <= bound`` when True, ``figure >= bound`` when False.
    """

    option: str
    figure: str
    read: Callable[[dict], float]
    upper: bool = True

    @property
    def dest(self) -> str:
        return self.option.replace('-', '_')


def add_limit_options(parser, limits: Sequence[Limit]) -> None:
    """One ``--<option> VALUE`` per limit on an argparse parser; none is set by default."""
    for limit in limits:
        parser.add_argument(
            f'--{limit.option}',
            type=float,
            default=None,
            metavar='VALUE',
            help=f'check that {limit.figure} is {"at most" if limit.upper else "at least"} '
            'VALUE (printed with each pair; no check by default)',
        )


def given_limits(parser, args, limits: Sequence[Limit]) -> Dict[str, float]:
    """The bounds given on the command line, ``{option: value}``; a negative one is a parser error."""
    given = {}
    for limit in limits:
        value = getattr(args, limit.dest)
        if value is None:
            continue
        if not value >= 0:
            parser.error(f'--{limit.option} must be >= 0, got {value}')
        given[limit.option] = value
    return given


def check_limits(result: dict, limits: Sequence[Limit], bounds: Dict[str, float]) -> List[dict]:
    """Each given bound against the figure it bounds in ``result``: figure, bound, value, met."""
    checks = []
    for limit in limits:
        if limit.option not in bounds:
            continue
        value, bound = float(limit.read(result)), bounds[limit.option]
        checks.append(
            dict(
                figure=limit.figure,
                bound=f'{"<=" if limit.upper else ">="} {bound:g}',
                value=value,
                met=value <= bound if limit.upper else value >= bound,
            )
        )
    return checks


def format_limits(checks: List[dict]) -> str:
    """One line: each checked figure, its value, its bound, met or MISSED."""
    return 'limits: ' + '; '.join(
        f'{c["figure"]} {c["value"]:.3f} {c["bound"]}: {"met" if c["met"] else "MISSED"}' for c in checks
    )


# ------------------------------------------------------------------------------------ end to end
def side_by_side(
    key: str, base_name: str, famt_name: str, rows, ratio_name: str = 'FAMT / baseline'
) -> List[str]:
    """Markdown lines of a baseline / FAMT table: one row per ``(figure, baseline, FAMT, ratio)``."""
    lines = [f'| {key} | {base_name} | {famt_name} | {ratio_name} |', '|---|---:|---:|---:|']
    return lines + [f'| {figure} | {base} | {famt} | {ratio} |' for figure, base, famt, ratio in rows]


def pace_sentence(name: str, pace: dict, data_share: float, model_ips: float) -> str:
    """Says plainly whether the loader set the pace for ``name`` and how many workers keep up."""
    need, used = pace['workers_needed'], pace['workers_used']
    arithmetic = (
        f'the model side takes {model_ips:.1f} images/s, one worker gives '
        f'{pace["worker_images_per_s"]:.1f}, so {need} worker(s) keep up'
    )
    if pace['loader_paces']:
        return (
            f'{name}: the LOADER sets the pace (the step waited for data {data_share:.0%} of '
            f'the time with {used} worker(s)); {arithmetic}.'
        )
    return (
        f'{name}: the model sets the pace (waited for data {data_share:.0%} of the time with '
        f'{used} worker(s)); {arithmetic}.'
    )


def format_e2e_table(key: str, r: dict) -> str:
    """The end-to-end table of one pair (:func:`.e2e.compare_e2e`'s result) and its notes."""
    base_n, famt_n = r['baseline'], r['famt']
    b, f = r['summary'][base_n], r['summary'][famt_n]
    lb, lf = r['loader'][base_n], r['loader'][famt_n]
    epochs = ', '.join(map(str, f['epochs']))

    rows = [
        (
            f'median epoch s (epochs {epochs})',
            f'{b["median_epoch_s"]:.2f}',
            f'{f["median_epoch_s"]:.2f}',
            f'{r["epoch_ratio"]:.3f}',
        ),
        ('images/s over the iterations', f'{b["images_per_s"]:.2f}', f'{f["images_per_s"]:.2f}', ''),
        (
            'time per image over the iterations, ms',
            f'{1e3 / b["images_per_s"]:.1f}',
            f'{1e3 / f["images_per_s"]:.1f}',
            f'{r["throughput_ratio"]:.3f}',
        ),
        (
            'train_step s per iteration',
            f'{b["step_s_per_iter"]:.3f}',
            f'{f["step_s_per_iter"]:.3f}',
            f'{r["step_ratio"]:.3f}',
        ),
        ('step waited for data (data_time / time)', f'{b["data_share"]:.1%}', f'{f["data_share"]:.1%}', ''),
        ('hooks and logging, share of time', f'{b["hooks_share"]:.1%}', f'{f["hooks_share"]:.1%}', ''),
        (
            'per-epoch overhead s (loader start, checkpoint)',
            f'{b["epoch_overhead_s"]:.2f}',
            f'{f["epoch_overhead_s"]:.2f}',
            '',
        ),
        (
            'refresh s (images/s)',
            '-',
            f'{r["refresh"]["seconds"]:.2f} ({r["refresh"]["images_per_s"]:.1f})',
            '',
        ),
        ('loader, one worker: images/s', f'{lb["images_per_s"]:.1f}', f'{lf["images_per_s"]:.1f}', ''),
        (
            'workers that keep up (used)',
            f'{r["pace"][base_n]["workers_needed"]} ({r["pace"][base_n]["workers_used"]})',
            f'{r["pace"][famt_n]["workers_needed"]} ({r["pace"][famt_n]["workers_used"]})',
            '',
        ),
    ]
    sched = r['config_schedule']
    lines = side_by_side(f'end-to-end {key}', base_n, famt_n, rows) + [
        '',
        f"per image, refresh at the config's interval ({sched['refresh_interval']} epochs): "
        f'{r["refresh"]["share_at_config_interval"]:.2%} of the FAMT run; whole '
        f'{sched["max_epochs"]}-epoch schedule (warm-up {sched["refresh_start"]} epochs at the '
        f"baseline's cost, refreshes included): FAMT / baseline = {r['schedule_ratio']:.3f}",
        'loader stages, ms per image: ' + '; '.join(f'{k} {v:.2f}' for k, v in lf['stages_ms'].items()),
        pace_sentence(base_n, r['pace'][base_n], b['data_share'], b['model_images_per_s']),
        pace_sentence(famt_n, r['pace'][famt_n], f['data_share'], f['model_images_per_s']),
    ]
    return '\n'.join(lines)


# ------------------------------------------------------------------------------------ the kit
def merge_results(results: List[dict], names: List[str]) -> dict:
    """One JSON of several benchmark runs, keyed by the file names they came from."""
    if len(results) != len(names):
        raise ValueError('one name per result')
    return dict(runs={name: r for name, r in zip(names, results)})


def junit_counts(path: str) -> dict:
    """Passed, failed, errors and skipped tests of a pytest ``--junitxml`` file."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == 'testsuite' else list(root.iter('testsuite'))
    counts = {
        key: sum(int(s.get(key, 0)) for s in suites) for key in ('tests', 'failures', 'errors', 'skipped')
    }
    failed = [
        f'{case.get("classname")}::{case.get("name")}'
        for suite in suites
        for case in suite.iter('testcase')
        if case.find('failure') is not None or case.find('error') is not None
    ]
    return dict(
        passed=counts['tests'] - counts['failures'] - counts['errors'] - counts['skipped'],
        failed=counts['failures'],
        errors=counts['errors'],
        skipped=counts['skipped'],
        failed_tests=failed,
    )


def _fmt(value: Optional[float], digits: int = 3) -> str:
    return '-' if value is None or (isinstance(value, float) and math.isnan(value)) else f'{value:.{digits}f}'


def _rate(images_per_s: float) -> str:
    return f'{images_per_s:,.0f}' if images_per_s >= 100 else f'{images_per_s:.2f}'


def _flags(settings: dict) -> str:
    flags = ', '.join(k for k in ('amp', 'compile') if settings.get(k)) or 'fp32 eager'
    if settings.get('optimizer', 'default') != 'default':
        flags += f', AdamW {settings["optimizer"]}'
    return flags


def _step_row(name: str, key: str, settings: dict, r: dict) -> str:
    b, f = r['methods'][r['baseline']], r['methods'][r['famt']]
    batch = settings.get('batch_size')
    ips = [batch / m['step_time']['median_s'] for m in (b, f)]
    refresh = r['refresh']
    return (
        f'| {name} | {key} | {batch} | {_flags(settings)} | '
        f'{_fmt(b["step_time"]["median_s"])} | {_fmt(f["step_time"]["median_s"])} | '
        f'{_fmt(r["time_ratio"])} | {_fmt(r["flops_ratio"])} | {_rate(ips[0])} | {_rate(ips[1])} | '
        f'{_memory(b["memory"])} / {_memory(f["memory"])} | '
        f'{_rate(refresh["scoring"]["images_per_s"])} / '
        f'{_rate(refresh["plain_inference"]["images_per_s"])} ({_fmt(refresh["ratio"])}) |'
    )


def _memory(memory: dict) -> str:
    return f'{_mib(memory["peak_bytes"])} ({_mib(memory["step_bytes"])})'


def _e2e_row(name: str, key: str, settings: dict, r: dict) -> str:
    b, f = r['summary'][r['baseline']], r['summary'][r['famt']]
    return (
        f'| {name} | {key} | {settings.get("batch_size")} | {_flags(settings)}, '
        f'{settings.get("workers")} workers | {_fmt(b["median_epoch_s"], 2)} | '
        f'{_fmt(f["median_epoch_s"], 2)} | {_fmt(r["epoch_ratio"])} | '
        f'{_fmt(r["throughput_ratio"])} | {_rate(b["images_per_s"])} | {_rate(f["images_per_s"])} | '
        f'{b["data_share"]:.0%} / {f["data_share"]:.0%} | '
        f'{_rate(r["refresh"]["images_per_s"])} |'
    )


STEP_HEADER = [
    '| run | pair | batch | settings | baseline step s | FAMT step s | FAMT / baseline | '
    'FLOPs ratio | baseline images/s | FAMT images/s | peak memory MiB, of which the step '
    '(baseline / FAMT) | '
    'refresh scoring / plain inference images/s (ratio) |',
    '|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
]
E2E_HEADER = [
    '| run | pair | batch | settings | baseline epoch s | FAMT epoch s | FAMT / baseline | '
    'time per image, FAMT / baseline | baseline images/s | FAMT images/s | '
    'data wait (baseline / FAMT) | refresh images/s |',
    '|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|',
]


def read_stages(path: str) -> List[dict]:
    """The kit's stage log: one ``name<TAB>exit status<TAB>seconds<TAB>time limit`` line a stage."""
    stages = []
    with open(path) as f:
        for line in f:
            if line.strip():
                name, status, seconds, limit = line.rstrip('\n').split('\t')
                stages.append(
                    dict(stage=name, exit=int(status), seconds=float(seconds), limit_s=float(limit))
                )
    return stages


def _stage_outcome(stage: dict) -> str:
    if stage['exit'] == 0:
        return 'ok'
    if stage['exit'] in (124, 130, 137):  # timeout's status, or killed by its signal
        return f'STOPPED at its time limit ({stage["limit_s"]:.0f} s)'
    return f'FAILED (exit {stage["exit"]})'


def kit_markdown(merged: dict) -> str:
    """The kit's markdown: the machine, the tests' outcome and the stages' (when ``merged`` has
    ``tests`` / ``stages``), one table of the step comparisons and one of the end-to-end ones, a row
    per pair and run. Images/s are per device (each benchmark trains on one)."""
    machine = merged.get('machine') or next(
        (run['machine'] for run in merged['runs'].values() if 'machine' in run), None
    )
    lines = []
    if machine:
        where = machine.get('gpu') or machine.get('cpu')
        stack = ', '.join(f'{k} {v}' for k, v in machine.get('packages', {}).items())
        lines.append(
            f'{where}, torch {machine.get("torch")}'
            + (f' (CUDA {machine["cuda"]})' if machine.get('cuda') else '')
            + f', Python {machine.get("python")}, {machine.get("platform")}'
            + (f'; {stack}' if stack else '')
        )
    dates = sorted(run['date'] for run in merged['runs'].values() if 'date' in run)
    if dates:
        lines.append(f'runs from {dates[0]} to {dates[-1]}')
    tests = merged.get('tests')
    if tests:
        lines.append(
            f'tests: {tests["passed"]} passed, {tests["failed"]} failed, '
            f'{tests["errors"]} errors, {tests["skipped"]} skipped'
            + ''.join(f'\n- FAILED {t}' for t in tests['failed_tests'])
        )
    if merged.get('stages'):
        lines += ['', '| stage | seconds | outcome |', '|---|---:|---|']
        lines += [
            f'| {st["stage"]} | {st["seconds"]:.0f} | {_stage_outcome(st)} |' for st in merged['stages']
        ]
    step_rows, e2e_rows = [], []
    for name, run in merged['runs'].items():
        settings = run.get('settings', {})
        for key, r in run.get('pairs', {}).items():
            if 'epoch_ratio' in r:
                e2e_rows.append(_e2e_row(name, key, settings, r))
            else:
                step_rows.append(_step_row(name, key, settings, r))
    for title, header, rows in (
        ('Training step', STEP_HEADER, step_rows),
        ('End to end', E2E_HEADER, e2e_rows),
    ):
        if rows:
            lines += ['', f'### {title}', '', *header, *rows]
    return '\n'.join(lines)


# ------------------------------------------------------------------------------------ step
def _mib(value: Optional[int]) -> str:
    return '-' if value is None else f'{value / 2**20:,.0f}'


def format_table(key: str, r: dict) -> str:
    """The step benchmark's table of one pair (:func:`.step.run_pair`'s result) and its notes."""
    base, famt = r['methods'][r['baseline']], r['methods'][r['famt']]
    rows = [
        (
            'train-step GFLOPs',
            f'{base["train_step_flops"] / 1e9:,.1f}',
            f'{famt["train_step_flops"] / 1e9:,.1f}',
            f'{r["flops_ratio"]:.3f}',
        ),
        (
            'step time, median s',
            f'{base["step_time"]["median_s"]:.3f}',
            f'{famt["step_time"]["median_s"]:.3f}',
            f'{r["time_ratio"]:.3f}',
        ),
        (
            'step time, min-max s',
            f'{base["step_time"]["min_s"]:.3f}-{base["step_time"]["max_s"]:.3f}',
            f'{famt["step_time"]["min_s"]:.3f}-{famt["step_time"]["max_s"]:.3f}',
            '',
        ),
        ('peak memory MiB', _mib(base['memory']['peak_bytes']), _mib(famt['memory']['peak_bytes']), ''),
        (
            '  of which the step MiB',
            _mib(base['memory']['step_bytes']),
            _mib(famt['memory']['step_bytes']),
            ''
            if base['memory']['step_bytes'] in (None, 0) or famt['memory']['step_bytes'] is None
            else f'{famt["memory"]["step_bytes"] / base["memory"]["step_bytes"]:.3f}',
        ),
    ]
    lines = side_by_side(key, r['baseline'], r['famt'], rows, r.get('ratio_name', 'FAMT / baseline'))
    lines.append('')
    for name, refresh in ((r['baseline'], r.get('refresh_baseline')), (r['famt'], r.get('refresh'))):
        if refresh is not None:
            lines.append(
                f'refresh scoring (last-block attention + importance), {name}: '
                f'{refresh["scoring"]["images_per_s"]:.2f} images/s; plain inference '
                f'{refresh["plain_inference"]["images_per_s"]:.2f} images/s; ratio '
                f'{refresh["ratio"]:.3f} (batch {refresh["batch_size"]})'
            )
    if 'refresh_time_ratio' in r:
        lines.append(f'refresh scoring time per image, {r["ratio_name"]}: {r["refresh_time_ratio"]:.3f}')
    if 'preprocessor' in r:
        pre = r['preprocessor']
        lines.append(
            f'preprocessor sample_mask_plan (warp + sampling): '
            f'{pre["sample_mask_plan"]["median_s"] * 1e3:.2f} ms = '
            f'{pre["share_of_famt_step"]:.2%} of the FAMT step'
        )
    lines.append(f'memory: {base["memory"]["kind"]}')
    if 'compile' in r:
        c = r['compile']
        lines.append(
            f'torch.compile: {c["after_timed"]["graphs"]} graphs; '
            + (
                'RECOMPILED during the timed steps'
                if c['recompiled_during_timed_steps']
                else 'nothing recompiled during the timed steps'
            )
        )
    if 'profile' in r:
        lines += ['', format_profile(r)]
    return '\n'.join(lines)


def format_profile(r: dict) -> str:
    """Phase times of the profiled step side by side, then each method's top ops by self time."""
    base, famt = r['profile'][r['baseline']], r['profile'][r['famt']]
    lines = [
        f'| profiled step ({base["clock"]} time) | {r["baseline"]} s | {r["famt"]} s | ratio |',
        '|---|---:|---:|---:|',
    ]
    for phase, seconds in base['phases_s'].items():
        other = famt['phases_s'].get(phase, 0.0)
        ratio = f'{other / seconds:.3f}' if seconds > 0 else ''
        lines.append(f'| {phase} | {seconds:.3f} | {other:.3f} | {ratio} |')
    for name in (r['baseline'], r['famt']):
        ops = r['profile'][name]['top_ops']
        lines += [
            '',
            f'{name}: ops with most self time',
            *(f'  {o["self_s"]:8.3f} s  {o["calls"]:6d} x  {o["op"]}' for o in ops),
        ]
    return '\n'.join(lines)
