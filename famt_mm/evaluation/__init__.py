"""The papers' evaluation protocol (linear probe, fine-tuning) behind ``tools/evaluate.py``.

It imports mmengine's Runner machinery, so ``import famt_mm`` does not load it: import the module.
"""
