"""famt_mm's models, in two folders: ``masking`` holds the glue every algorithm shares (mask generators,
scoring, importance cache, throwing preprocessors, the plan-taking contract), ``selfsup`` the algorithms
that take the plan, one per file. Everything is re-exported here."""
from ..checkpoint import CheckPretrainedKeys  # registered there; kept importable from here
from .masking import *  # noqa: F401,F403
from .masking import __all__ as _masking_all
from .selfsup import *  # noqa: F401,F403
from .selfsup import __all__ as _selfsup_all

__all__ = ['CheckPretrainedKeys', *_masking_all, *_selfsup_all]
