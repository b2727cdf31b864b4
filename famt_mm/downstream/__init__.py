"""Downstream transfer of famt_mm pretraining checkpoints: mmdet Mask R-CNN and mmseg UperNet.

``famt_mm.checkpoint`` (no mmdet / mmseg) renames and checks backbone keys; ``export`` is the export
tool's logic (``tools/export_backbone.py``). ``det`` and ``seg`` register the downstream models
into mmdet's and mmseg's registries; they import mmdet / mmseg and are imported by the downstream configs
(``custom_imports``), never by ``import famt_mm``.
"""
