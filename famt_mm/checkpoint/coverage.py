"""The one key-coverage check: which tensors of a source state dict load into a target, and the verdict.

Pure PyTorch. Loaders of mmengine, mmdet and mmseg are non-strict: a checkpoint with the wrong key names
loads nothing and says so at most in a log line. Every loader of famt_mm (the ``FAMTCheckPretrainedKeys``
initializer, the downstream backbones, the export tool) asks :func:`key_coverage` first, with the
renames and the rules of its target.
"""

import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch

#: ``re.sub`` pairs applied in order to each source key
Renames = Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class NotPretrained:
    """Target weights a checkpoint may lack by design: a key pattern and the value they must start at.

    Args:
        pattern: regular expression matched (``re.search``) against target keys.
        value: every element must equal this at initialisation; None for anything (computed buffers,
            new layers initialised by the model itself).
        why: the reason, shown in reports and errors.
    """

    pattern: str
    value: Optional[float]
    why: str


@dataclass(frozen=True)
class KeyRules:
    """What a target tolerates besides an exact, same-shape match of every key.

    Args:
        droppable: source keys (after renaming) the target lacks by design; reported as dropped, not
            as unexpected.
        not_pretrained: target keys the source may lack (see :class:`NotPretrained`).
        resizable: target keys whose token count the target's own loader adapts (``pos_embed``): a
            source tensor of another token count but the same width still loads.
    """

    droppable: Tuple[str, ...] = ()
    not_pretrained: Tuple[NotPretrained, ...] = ()
    resizable: Tuple[str, ...] = ()

    def not_pretrained_rule(self, key: str) -> Optional[NotPretrained]:
        return next((r for r in self.not_pretrained if re.search(r.pattern, key)), None)


@dataclass
class KeyReport:
    """Outcome of :func:`key_coverage`. Keys are the target's, except ``unexpected`` and ``dropped``
    (renamed source keys the target lacks).

    ``missing``, ``unexpected``, ``shape_mismatch``, ``collisions`` and ``off_neutral`` are problems;
    the rest is by design. ``renamed`` maps each source key to its target name.
    """

    target: str
    matched: List[str] = field(default_factory=list)
    resized: List[str] = field(default_factory=list)
    not_pretrained: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shape_mismatch: List[str] = field(default_factory=list)
    collisions: List[str] = field(default_factory=list)
    off_neutral: List[str] = field(default_factory=list)
    reasons: Dict[str, int] = field(default_factory=dict)  # why not pretrained -> how many keys
    renamed: Dict[str, str] = field(default_factory=dict)

    @property
    def loaded(self) -> List[str]:
        """Target keys that get a source tensor."""
        return self.matched + self.resized

    @property
    def ok(self) -> bool:
        return not self.problems()

    def problems(self, unexpected: bool = True) -> List[str]:
        """What is wrong; ``unexpected=False`` tolerates source tensors the target has no use for."""
        found = []
        if self.missing:
            found.append(
                f'{len(self.missing)} backbone weights would stay uninitialised (missing '
                f'from the checkpoint): {listing(self.missing)}'
            )
        if self.unexpected and unexpected:
            found.append(
                f'{len(self.unexpected)} pretrained weights have no place in the target '
                f'backbone (unexpected): {listing(self.unexpected)}'
            )
        if self.shape_mismatch:
            found.append(
                f'{len(self.shape_mismatch)} shapes differ (checkpoint vs target): '
                f'{listing(self.shape_mismatch)}'
            )
        if self.collisions:
            found.append(
                f'{len(self.collisions)} target keys have several sources: {listing(self.collisions)}'
            )
        found.extend(self.off_neutral)
        return found

    def summary(self) -> str:
        lines = [
            f'target {self.target}: {len(self.matched)} matched, {len(self.resized)} resized by '
            f"the target's loader, {len(self.not_pretrained)} not pretrained by design, "
            f'{len(self.dropped)} dropped by design, {len(self.missing)} missing, '
            f'{len(self.unexpected)} unexpected, {len(self.shape_mismatch)} shape mismatches'
        ]
        if self.resized:
            lines.append(f"  resized by the target's loader: {listing(self.resized)}")
        for why, count in self.reasons.items():
            lines.append(f'  not pretrained: {count} x {why}')
        if self.dropped:
            lines.append(f'  dropped: {listing(self.dropped)}')
        lines.extend(f'  PROBLEM: {p}' for p in self.problems())
        return '\n'.join(lines)


def listing(keys: Sequence[str], limit: int = 8) -> str:
    """The first ``limit`` keys, comma-separated, and how many more there are."""
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys) - limit} more)' if len(keys) > limit else '')


def rename(key: str, renames: Renames) -> str:
    """``key`` with every ``re.sub`` pair of ``renames`` applied in order."""
    for pattern, replacement in renames:
        key = re.sub(pattern, replacement, key)
    return key


def _square(tokens: int) -> bool:
    side = round(tokens**0.5)
    return tokens > 0 and side * side == tokens


def resizable(source: torch.Tensor, target: torch.Tensor) -> bool:
    """Both (1, [CLS +] square grid, C) position embeddings of the same width and extra tokens."""
    if source.ndim != 3 or target.ndim != 3 or source.shape[::2] != target.shape[::2]:
        return False
    return any(_square(source.shape[1] - extra) and _square(target.shape[1] - extra) for extra in (0, 1))


def key_coverage(
    source: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    renames: Renames = (),
    rules: KeyRules = KeyRules(),
    target: str = 'target',
) -> KeyReport:
    """Match a source state dict, renamed, against the target's expected state dict.

    Args:
        source: the tensors a checkpoint offers (prefix already stripped).
        expected: the target module's own ``state_dict()``: its keys, shapes and initial values.
        renames: ``re.sub`` pairs turning source key names into target key names.
        rules: what the target tolerates (see :class:`KeyRules`).
        target: how the report names the target.

    Returns:
        The report: target keys matched (same shape), resized (by the target's loader), not pretrained
        by design, missing; source keys dropped by design or unexpected; shape mismatches; target keys
        several source keys map to; not-pretrained weights not at their neutral start.
    """
    report = KeyReport(target=target)
    renamed: Dict[str, torch.Tensor] = {}
    for key, value in source.items():
        new_key = rename(key, renames)
        report.renamed[key] = new_key
        if new_key in renamed:
            report.collisions.append(new_key)
        renamed[new_key] = value
    for key, value in renamed.items():
        if key not in expected:
            (report.dropped if key in rules.droppable else report.unexpected).append(key)
        elif tuple(value.shape) == tuple(expected[key].shape):
            report.matched.append(key)
        elif key in rules.resizable and resizable(value, expected[key]):
            report.resized.append(key)
        else:
            report.shape_mismatch.append(f'{key} {tuple(value.shape)} vs {tuple(expected[key].shape)}')
    for key, value in expected.items():
        if key in renamed:
            continue
        rule = rules.not_pretrained_rule(key)
        if rule is None:
            report.missing.append(key)
            continue
        report.not_pretrained.append(key)
        report.reasons[rule.why] = report.reasons.get(rule.why, 0) + 1
        if rule.value is not None and not bool((value == rule.value).all()):
            report.off_neutral.append(f'{key} does not start at {rule.value:g} ({rule.why})')
    return report


def renamed_tensors(source: Mapping[str, torch.Tensor], report: KeyReport) -> Dict[str, torch.Tensor]:
    """The source tensors that load, under their target names (tensors shared, not copied)."""
    loaded = set(report.loaded)
    return {new: source[old] for old, new in report.renamed.items() if new in loaded}
