from .linear_probe_hook import LinearProbeHook
from .refresh_hook import CHECKPOINT_KEY, FAMTRefreshHook
from .visualization_hook import FAMTVisualizationHook

__all__ = ['CHECKPOINT_KEY', 'FAMTRefreshHook', 'FAMTVisualizationHook', 'LinearProbeHook']
