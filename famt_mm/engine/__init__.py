from .capture_hook import ObjectCaptureHook, ObjectOracleHook
from .few_label_hook import FewLabelEvalHook
from .linear_probe_hook import LinearProbeHook
from .optim_constructor import FAMTOptimWrapperConstructor
from .refresh_hook import CHECKPOINT_KEY, FAMTRefreshHook
from .visualization_hook import FAMTVisualizationHook

__all__ = ['CHECKPOINT_KEY', 'FAMTOptimWrapperConstructor', 'FAMTRefreshHook', 'FAMTVisualizationHook',
           'FewLabelEvalHook', 'LinearProbeHook', 'ObjectCaptureHook', 'ObjectOracleHook']
