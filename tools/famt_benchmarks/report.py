"""Comparisons and tables of the benchmarks: the step benchmark's, the end-to-end one's, and the GPU kit's.

The end-to-end comparison puts, per method, the median epoch time, images/s, the share of time the
step waited for data, the refresh, and the loader's images/s per worker side by side, with
FAMT / baseline ratios; it says when the loader, not the model, sets the pace and how many workers
would keep up. :func:`merge_results` and :func:`kit_markdown` collect the JSON files of several
``tools/benchmark.py`` and ``tools/benchmark_e2e.py`` runs into one JSON and one markdown table.
"""
import math
from typing import Dict, List, Optional

from .loader import workers_needed
from .measure import format_profile

#: the step waited for data longer than this share of the iteration time: the loader sets the pace
PACE_SHARE = 0.05

#: the end-to-end targets, checked on measured ViT-B/16 figures
E2E_TARGETS = dict(max_epoch_ratio=0.70, max_refresh_share=0.05)


def side_by_side(key: str, base_name: str, famt_name: str, rows,
                 ratio_name: str = 'FAMT / baseline') -> List[str]:
    """Markdown lines of a baseline / FAMT table: one row per ``(figure, baseline, FAMT, ratio)``."""
    lines = [f'| {key} | {base_name} | {famt_name} | {ratio_name} |', '|---|---:|---:|---:|']
    return lines + [f'| {figure} | {base} | {famt} | {ratio} |' for figure, base, famt, ratio in rows]


def _num_refreshes(schedule: dict) -> int:
    start, interval = schedule['refresh_start'], schedule['refresh_interval']
    if start is None:
        return 0
    return len(range(start, schedule['max_epochs'], interval))


def compare_e2e(base_name: str, famt_name: str, runs: Dict[str, dict], loaders: Dict[str, dict],
                opts) -> dict:
    """The pair's figures, ratios, loader verdicts and targets (see the module docstring)."""
    from .e2e import summarise
    first = opts.refresh_start
    summary = {name: summarise(run, first) for name, run in runs.items()}
    base, famt = summary[base_name], summary[famt_name]
    refreshes = runs[famt_name]['refreshes']
    if not refreshes:
        raise RuntimeError(f'{famt_name} ran no refresh: is its refresh hook configured?')
    refresh_s = refreshes[0]['seconds']
    schedule = runs[famt_name]['schedule']
    interval = schedule['refresh_interval']
    # per image, so that a small folder's per-epoch costs (loader start, checkpoint) do not count:
    # on a full-size data set they vanish against the iterations; the refresh keeps its own
    t_base, t_famt = 1 / base['images_per_s'], 1 / famt['images_per_s']
    t_refresh = refresh_s / refreshes[0]['images']
    # one refresh per `interval` guided epochs, at the config's schedule
    refresh_share = t_refresh / (t_refresh + interval * t_famt)
    warm, total = schedule['refresh_start'], schedule['max_epochs']
    schedule_ratio = ((warm * t_base + (total - warm) * t_famt
                       + _num_refreshes(schedule) * t_refresh) / (total * t_base))
    pace = {}
    for name, s in summary.items():
        per_worker = loaders[name]['images_per_s']
        pace[name] = dict(loader_paces=s['data_share'] > PACE_SHARE, workers_used=opts.workers,
                          worker_images_per_s=per_worker,
                          workers_needed=workers_needed(s['model_images_per_s'], per_worker))
    epoch_ratio = famt['median_epoch_s'] / base['median_epoch_s']
    result = dict(
        baseline=base_name, famt=famt_name, methods=runs, summary=summary, loader=loaders,
        pace=pace,
        step_ratio=famt['step_s_per_iter'] / base['step_s_per_iter'],
        epoch_ratio=epoch_ratio,
        throughput_ratio=base['images_per_s'] / famt['images_per_s'],
        refresh=dict(seconds=refresh_s, images_per_s=refreshes[0]['images_per_s'],
                     maps_finite=refreshes[0]['maps_finite'], config_interval=interval,
                     share_at_config_interval=refresh_share),
        schedule_ratio=schedule_ratio, config_schedule=schedule)
    loader_free = not any(p['loader_paces'] for p in pace.values())
    t = E2E_TARGETS
    result['targets'] = {
        f'epoch ratio <= {t["max_epoch_ratio"]} (loader not pacing)':
            bool(loader_free and epoch_ratio <= t['max_epoch_ratio']),
        f'refresh <= {t["max_refresh_share"]:.0%} of the FAMT run at the config\'s interval':
            refresh_share <= t['max_refresh_share'],
    }
    return result


def pace_sentence(name: str, pace: dict, data_share: float, model_ips: float) -> str:
    """Says plainly whether the loader set the pace for ``name`` and how many workers keep up."""
    need, used = pace['workers_needed'], pace['workers_used']
    arithmetic = (f'the model side takes {model_ips:.1f} images/s, one worker gives '
                  f'{pace["worker_images_per_s"]:.1f}, so {need} worker(s) keep up')
    if pace['loader_paces']:
        return (f'{name}: the LOADER sets the pace (the step waited for data {data_share:.0%} of '
                f'the time with {used} worker(s)); {arithmetic}.')
    return (f'{name}: the model sets the pace (waited for data {data_share:.0%} of the time with '
            f'{used} worker(s)); {arithmetic}.')


def format_e2e_table(key: str, r: dict) -> str:
    base_n, famt_n = r['baseline'], r['famt']
    b, f = r['summary'][base_n], r['summary'][famt_n]
    lb, lf = r['loader'][base_n], r['loader'][famt_n]
    epochs = ', '.join(map(str, f['epochs']))

    rows = [
        (f'median epoch s (epochs {epochs})', f'{b["median_epoch_s"]:.2f}',
         f'{f["median_epoch_s"]:.2f}', f'{r["epoch_ratio"]:.3f}'),
        ('images/s over the iterations', f'{b["images_per_s"]:.2f}', f'{f["images_per_s"]:.2f}',
         ''),
        ('time per image over the iterations, ms', f'{1e3 / b["images_per_s"]:.1f}',
         f'{1e3 / f["images_per_s"]:.1f}', f'{r["throughput_ratio"]:.3f}'),
        ('train_step s per iteration', f'{b["step_s_per_iter"]:.3f}', f'{f["step_s_per_iter"]:.3f}',
         f'{r["step_ratio"]:.3f}'),
        ('step waited for data (data_time / time)', f'{b["data_share"]:.1%}',
         f'{f["data_share"]:.1%}', ''),
        ('hooks and logging, share of time', f'{b["hooks_share"]:.1%}', f'{f["hooks_share"]:.1%}',
         ''),
        ('per-epoch overhead s (loader start, checkpoint)', f'{b["epoch_overhead_s"]:.2f}',
         f'{f["epoch_overhead_s"]:.2f}', ''),
        ('refresh s (images/s)', '-',
         f'{r["refresh"]["seconds"]:.2f} ({r["refresh"]["images_per_s"]:.1f})', ''),
        ('loader, one worker: images/s', f'{lb["images_per_s"]:.1f}', f'{lf["images_per_s"]:.1f}',
         ''),
        ('workers that keep up (used)', f'{r["pace"][base_n]["workers_needed"]} '
         f'({r["pace"][base_n]["workers_used"]})', f'{r["pace"][famt_n]["workers_needed"]} '
         f'({r["pace"][famt_n]["workers_used"]})', ''),
    ]
    sched = r['config_schedule']
    lines = side_by_side(f'end-to-end {key}', base_n, famt_n, rows) + [
        '',
        f'per image, refresh at the config\'s interval ({sched["refresh_interval"]} epochs): '
        f'{r["refresh"]["share_at_config_interval"]:.2%} of the FAMT run; whole '
        f'{sched["max_epochs"]}-epoch schedule (warm-up {sched["refresh_start"]} epochs at the '
        f'baseline\'s cost, refreshes included): FAMT / baseline = {r["schedule_ratio"]:.3f}',
        'loader stages, ms per image: ' + '; '.join(
            f'{k} {v:.2f}' for k, v in lf['stages_ms'].items()),
        pace_sentence(base_n, r['pace'][base_n], b['data_share'], b['model_images_per_s']),
        pace_sentence(famt_n, r['pace'][famt_n], f['data_share'], f['model_images_per_s']),
        'targets: ' + '; '.join(f'{name}: {"met" if ok else "MISSED"}'
                                for name, ok in r['targets'].items()),
    ]
    return '\n'.join(lines)


# ------------------------------------------------------------------------------------ the kit
def merge_results(results: List[dict], names: List[str]) -> dict:
    """One JSON of several benchmark runs, keyed by the file names they came from."""
    if len(results) != len(names):
        raise ValueError('one name per result')
    return dict(runs={name: r for name, r in zip(names, results)})


def _fmt(value: Optional[float], digits: int = 3) -> str:
    return '-' if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f'{value:.{digits}f}'


def kit_markdown(merged: dict) -> str:
    """One markdown table: every step and end-to-end comparison in ``merged``, one row each."""
    lines = ['| run | pair | batch | settings | baseline s | FAMT s | FAMT / baseline | '
             'FLOPs ratio | data wait (base / FAMT) |', '|---|---|---:|---|---:|---:|---:|---:|---|']
    machine = None
    for name, run in merged['runs'].items():
        machine = machine or run.get('machine')
        s = run.get('settings', {})
        flags = ', '.join(k for k in ('amp', 'compile') if s.get(k)) or 'fp32 eager'
        if s.get('optimizer', 'default') not in ('default', 'config'):  # 'config': older runs
            flags += f', AdamW {s["optimizer"]}'
        for key, r in run.get('pairs', {}).items():
            if 'epoch_ratio' in r:  # end-to-end
                b, f = r['summary'][r['baseline']], r['summary'][r['famt']]
                lines.append(
                    f'| {name} (epoch) | {key} | {s.get("batch_size")} | {flags}, '
                    f'{s.get("workers")} workers | {_fmt(b["median_epoch_s"], 2)} | '
                    f'{_fmt(f["median_epoch_s"], 2)} | {_fmt(r["epoch_ratio"])} | - | '
                    f'{b["data_share"]:.0%} / {f["data_share"]:.0%} |')
            else:  # training step
                b, f = r['methods'][r['baseline']], r['methods'][r['famt']]
                lines.append(
                    f'| {name} (step) | {key} | {s.get("batch_size")} | {flags} | '
                    f'{_fmt(b["step_time"]["median_s"])} | {_fmt(f["step_time"]["median_s"])} | '
                    f'{_fmt(r["time_ratio"])} | {_fmt(r["flops_ratio"])} | - |')
    if machine:
        where = machine.get('gpu') or machine.get('cpu')
        lines += ['', f'{where}, torch {machine.get("torch")}, {machine.get("platform")}']
    return '\n'.join(lines)


# ------------------------------------------------------------------ step benchmark
def _mib(value: Optional[int]) -> str:
    return '-' if value is None else f'{value / 2**20:,.0f}'


def format_table(key: str, r: dict) -> str:
    """The step benchmark's table of one pair (:func:`.step.run_pair`'s result) and its notes."""
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
    lines = side_by_side(key, r['baseline'], r['famt'], rows, r.get('ratio_name', 'FAMT / baseline'))
    lines.append('')
    for name, refresh in ((r['baseline'], r.get('refresh_baseline')), (r['famt'], r.get('refresh'))):
        if refresh is not None:
            lines.append(f'refresh scoring (last-block attention + importance), {name}: '
                         f'{refresh["scoring"]["images_per_s"]:.2f} images/s; plain inference '
                         f'{refresh["plain_inference"]["images_per_s"]:.2f} images/s; ratio '
                         f'{refresh["ratio"]:.3f} (batch {refresh["batch_size"]})')
    if 'refresh_time_ratio' in r:
        lines.append(f'refresh scoring time per image, {r["ratio_name"]}: {r["refresh_time_ratio"]:.3f}')
    if 'preprocessor' in r:
        pre = r['preprocessor']
        lines.append(f'preprocessor sample_mask_plan (warp + sampling): '
                     f'{pre["sample_mask_plan"]["median_s"] * 1e3:.2f} ms = '
                     f'{pre["share_of_famt_step"]:.2%} of the FAMT step')
    lines.append(f'memory: {base["memory"]["kind"]}')
    if 'compile' in r:
        c = r['compile']
        lines.append(f'torch.compile: {c["after_timed"]["graphs"]} graphs; '
                     + ('RECOMPILED during the timed steps' if c['recompiled_during_timed_steps']
                        else 'nothing recompiled during the timed steps'))
    if 'profile' in r:
        lines += ['', format_profile(r)]
    if r['targets']:
        lines += [
            '',
            'targets: ' + '; '.join(f'{name}: {"met" if ok else "MISSED"}'
                                    for name, ok in r['targets'].items()),
        ]
    return '\n'.join(lines)
