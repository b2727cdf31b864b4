"""Benchmarks behind ``tools/benchmark.py`` and ``tools/demo_accuracy_for_time.py``.

They import mmengine and mmpretrain, so ``import famt_mm`` does not load them; import the modules.
"""
