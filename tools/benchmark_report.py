"""Collects JSON files of ``tools/benchmark.py`` and ``tools/benchmark_e2e.py`` into one JSON and
one markdown file (the GPU run kit's output, ``tools/gpu_benchmark.sh``).

    python tools/benchmark_report.py step_mae_b256.json e2e.json [--tests gpu_tests.xml] \
        [--stages stages.tsv] --json gpu_benchmark.json --md gpu_benchmark.md

``--tests`` adds the outcome of a pytest run (its ``--junitxml`` file): passed, failed, errors,
skipped, and the failed tests by name; ``--stages`` the kit's log of its stages (name, exit status,
seconds, time limit). The machine this tool runs on (the device's name, torch, the OpenMMLab stack)
is recorded too: the kit runs it where it ran the benchmarks.
"""

import argparse
import json
import os.path as osp
from typing import List, Optional

import torch

from famt_benchmarks.measure import machine_info
from famt_benchmarks.report import junit_counts, kit_markdown, merge_results, read_stages


def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', nargs='*', help='JSON files written by the benchmarks')
    parser.add_argument('--tests', help='a pytest --junitxml file whose outcome to include')
    parser.add_argument('--stages', help="the kit's stage log to include (tools/gpu_benchmark.sh)")
    parser.add_argument('--json', required=True, help='merged JSON to write')
    parser.add_argument('--md', required=True, help='markdown to write')
    args = parser.parse_args(argv)
    missing = [p for p in args.inputs + [args.tests, args.stages] if p and not osp.isfile(p)]
    if missing:
        parser.error(f'inputs: no such file(s) {missing}')
    if not (args.inputs or args.tests or args.stages):
        parser.error('nothing to report: give benchmark JSON files, --tests and/or --stages')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    results = []
    for path in args.inputs:
        with open(path) as f:
            results.append(json.load(f))
    names = [osp.splitext(osp.basename(p))[0] for p in args.inputs]
    merged = merge_results(results, names)
    merged['machine'] = machine_info(torch.device('cuda' if torch.cuda.is_available() else 'cpu'))
    if args.stages:
        merged['stages'] = read_stages(args.stages)
    if args.tests:
        merged['tests'] = dict(junit_counts(args.tests), file=osp.basename(args.tests))
    table = kit_markdown(merged)
    with open(args.json, 'w') as f:
        json.dump(merged, f, indent=2)
    with open(args.md, 'w') as f:
        f.write(table + '\n')
    print(table)
    return merged


if __name__ == '__main__':
    main()
