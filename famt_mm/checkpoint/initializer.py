"""Make ``Pretrained`` loading fail loudly when the checkpoint does not cover a submodule.

mmengine's ``Pretrained`` initializer loads non-strictly and only logs what it could not load, so a
checkpoint with the wrong key names (or the wrong prefix) trains a randomly initialised backbone and
says so in one log line. ``FAMTCheckPretrainedKeys`` is the one mechanism the benchmark configs use
against that: it runs first in the classifier's ``init_weights`` and raises before training starts.
"""

from typing import Dict, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.registry import WEIGHT_INITIALIZERS
from torch import nn

from .coverage import KeyRules, NotPretrained, key_coverage
from .loading import backbone_state_dict, read_checkpoint

#: how many offending keys an error lists
_SHOWN = 12


def check_state_dict_covers(
    module: nn.Module,
    state_dict: Dict[str, torch.Tensor],
    allow_missing: Sequence[str] = (),
    resizable: Sequence[str] = ('pos_embed',),
    source: str = 'the checkpoint',
) -> Tuple[str, ...]:
    """Raise unless ``state_dict`` holds every key of ``module.state_dict()`` with its shape.

    Args:
        module: the module the state dict is meant for (e.g. a ``VisionTransformer``).
        state_dict: the tensors that would be loaded into it (prefix already stripped).
        allow_missing: regular expressions (``re.match``) of module keys that may be absent: new
            parts of the downstream model, e.g. ``'ln2\\.'`` for the fine-tune's pooled-feature norm.
        resizable: keys whose token count may differ because the module resizes them on load (the
            ViT's position embedding at another resolution); the width must still match.
        source: how the error names the state dict's origin.

    Returns:
        The checkpoint keys the module does not use (they are ignored when loading).
    """
    rules = KeyRules(
        not_pretrained=tuple(
            NotPretrained(f'^(?:{p})', None, 'new downstream (allow_missing)') for p in allow_missing
        ),
        resizable=tuple(resizable),
    )
    expected = module.state_dict()
    report = key_coverage(state_dict, expected, rules=rules, target=type(module).__name__)
    missing = report.missing
    if missing:
        found = ', '.join(list(state_dict)[:6]) or 'no keys at all'
        raise RuntimeError(
            f'{source} lacks {len(missing)} of the {len(expected)} keys of '
            f'{type(module).__name__}, which would stay randomly initialised: '
            f'{", ".join(missing[:_SHOWN])}'
            f'{f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""}. '
            f'It holds {len(state_dict)} keys under the prefix, e.g. {found}. Check the checkpoint '
            f'and the init_cfg prefix (famt_mm pretraining checkpoints hold the encoder under '
            f"'backbone.')."
        )
    if report.shape_mismatch:
        raise RuntimeError(
            f'{source} does not fit {type(module).__name__} (checkpoint vs model '
            f'shape): {"; ".join(report.shape_mismatch[:_SHOWN])}. Is the backbone '
            'arch or patch size that of the pretraining?'
        )
    return tuple(report.unexpected)


@WEIGHT_INITIALIZERS.register_module()  # mmengine's root registry: visible from every scope
class FAMTCheckPretrainedKeys:
    """Checks, before loading, that every ``Pretrained`` init_cfg inside a model covers its module.

    Put it in the init_cfg of the model that holds the pretrained submodule, e.g.
    ``model = dict(type='ImageClassifier', init_cfg=dict(type='FAMTCheckPretrainedKeys'), backbone=dict(
    ..., init_cfg=dict(type='Pretrained', checkpoint=CKPT, prefix='backbone.')))``. mmengine runs a
    module's own non-``Pretrained`` init_cfg before its children are initialised, so the check opens
    each submodule's checkpoint and raises on any missing or mis-shaped key before training; the
    loading itself stays mmengine's (and mmpretrain's ViT still resizes position embeddings).
    Checkpoint keys the module does not use are logged.

    Args:
        allow_missing (Sequence[str]): regular expressions of submodule keys that may be absent
            from the checkpoint because they are new downstream. Defaults to none.
        resizable (Sequence[str]): keys whose token count may differ. Defaults to ``('pos_embed',)``.
    """

    def __init__(self, allow_missing: Sequence[str] = (), resizable: Sequence[str] = ('pos_embed',)):
        self.allow_missing = tuple(allow_missing)
        self.resizable = tuple(resizable)

    def __call__(self, model: nn.Module) -> None:
        targets = [
            (name, sub)
            for name, sub in model.named_modules()
            if isinstance(getattr(sub, 'init_cfg', None), dict) and sub.init_cfg.get('type') == 'Pretrained'
        ]
        if not targets:
            raise ValueError(
                'FAMTCheckPretrainedKeys: no submodule of '
                f"{type(model).__name__} has init_cfg=dict(type='Pretrained', ...)"
            )
        for name, sub in targets:
            cfg = sub.init_cfg
            checkpoint = cfg.get('checkpoint')
            where = f'{name}.init_cfg' if name else 'init_cfg'
            if not checkpoint:
                raise ValueError(
                    f'{where}.checkpoint is empty: set it to a pretraining checkpoint, '
                    f'e.g. --cfg-options model.{where}.checkpoint=PATH (tools/'
                    'evaluate.py does this)'
                )
            loaded = read_checkpoint(checkpoint, setting=f'model.{where}.checkpoint')
            state_dict = backbone_state_dict(loaded, cfg.get('prefix'), path=checkpoint)
            unused = check_state_dict_covers(
                sub,
                state_dict,
                self.allow_missing,
                self.resizable,
                source=f'{checkpoint} (prefix {cfg.get("prefix")!r})',
            )
            print_log(
                f'FAMTCheckPretrainedKeys: {checkpoint} covers all keys of {name or "the model"}'
                + (f'; unused checkpoint keys: {", ".join(unused)}' if unused else ''),
                logger='current',
            )
