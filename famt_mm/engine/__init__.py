from .capture_hook import FAMTObjectCaptureHook, FAMTObjectOracleHook
from .few_label_hook import FAMTFewLabelEvalHook
from .linear_probe_hook import FAMTLinearProbeHook
from .optim_constructor import FAMTOptimWrapperConstructor
from .refresh_hook import CHECKPOINT_KEY, FAMTRefreshHook
from .runner import FAMTRunner
from .visualization_hook import FAMTVisualizationHook

__all__ = [
    'CHECKPOINT_KEY',
    'FAMTOptimWrapperConstructor',
    'FAMTRefreshHook',
    'FAMTRunner',
    'FAMTVisualizationHook',
    'FAMTLinearProbeHook',
    'FAMTFewLabelEvalHook',
    'FAMTObjectCaptureHook',
    'FAMTObjectOracleHook',
]
