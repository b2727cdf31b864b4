from .linear_probe_hook import LinearProbeHook
from .refresh_hook import CHECKPOINT_KEY, FAMTRefreshHook

__all__ = ['CHECKPOINT_KEY', 'FAMTRefreshHook', 'LinearProbeHook']
