"""Helpers of the Runner tests: the refresh hook of a runner, and a record of the plans it draws."""

from typing import List, Tuple


def refresh_hook_of(runner):
    """The runner's ``FAMTRefreshHook``."""
    from ..engine import FAMTRefreshHook

    return next(h for h in runner.hooks if isinstance(h, FAMTRefreshHook))


def record_plans(runner) -> List[Tuple[int, int, int]]:
    """Record ``(epoch, n_visible, n_thrown)`` of every training batch's plan, in a list that fills
    while the runner trains."""
    preprocessor = runner.model.data_preprocessor
    seen, original = [], preprocessor.sample_mask_plan

    def recording(inputs, data_samples):
        plan = original(inputs, data_samples)
        seen.append((runner.epoch, plan.visible.shape[1], plan.thrown.shape[1]))
        return plan

    preprocessor.sample_mask_plan = recording
    return seen
