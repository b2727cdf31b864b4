"""famt_mm's models: ``masking`` holds the glue every algorithm shares (mask generators, scoring,
importance cache, throwing preprocessors, the plan-taking contract), ``selfsup`` the algorithms that
take the plan, one per file; ``layers`` and ``backbones`` the neighbouring systems (X-ViT attention and
backbones, trainable matrix activations). Everything is re-exported here."""

from ..checkpoint import FAMTCheckPretrainedKeys  # registered there; kept importable from here
from .backbones import *  # noqa: F401,F403
from .backbones import __all__ as _backbones_all
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers_all
from .masking import *  # noqa: F401,F403
from .masking import __all__ as _masking_all
from .selfsup import *  # noqa: F401,F403
from .selfsup import __all__ as _selfsup_all

__all__ = ['FAMTCheckPretrainedKeys', *_masking_all, *_selfsup_all, *_layers_all, *_backbones_all]
