"""The measuring code behind famt_mm's benchmark tools (``tools/benchmark.py``, ``benchmark_e2e.py``,
``benchmark_report.py``, ``demo_accuracy_for_time.py``, ``visualize.py``): an application of famt_mm,
kept out of the installed package. The tools run as scripts from ``tools/``, which puts this package
on ``sys.path``; pytest finds it through ``pythonpath = tools`` in ``pytest.ini``.
"""
