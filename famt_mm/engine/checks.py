"""What the refresh hook derives and checks before the first step, each check naming its remedy."""

from typing import List, Sequence, Tuple, Union

#: crop transforms whose box the preprocessor reads; a scoring pipeline can be derived around the first
CROPS_WITH_BOX = ('FAMTRandomResizedCropWithBox', 'FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox')
#: keys of a crop transform that the derived whole-image Resize takes over
_RESIZE_KEYS = ('interpolation', 'backend')
#: transforms before the crop that change nothing at random, so the scoring pipeline may keep them
_DETERMINISTIC_PREFIXES = ('Load', 'Resize', 'ToTensor', 'Convert', 'Decode')


def train_log_epoch(epoch: int) -> str:
    """Words for the epoch that follows ``epoch`` completed epochs (``runner.epoch``), numbered as
    mmengine's train log numbers it (``Epoch(train) [N]`` is 1-based)."""
    return f'epoch {epoch + 1} (1-based, as the train log)'


def resolve_epochs(value: Union[int, float], max_epochs: int, name: str, low: int) -> int:
    """An epoch count given as an integer, or as a fraction of the schedule (``0.1`` of 400 = 40).

    Args:
        value: an integer >= ``low``, or a float in (0, 1) (a share of ``max_epochs``).
        max_epochs: epochs of the training schedule.
        name: the setting, named in the error.
        low: the smallest allowed count (0 for a warm-up, 1 for an interval).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f'{name} must be an integer >= {low} or a fraction of the schedule in (0, 1), got {value!r}'
        )
    if isinstance(value, float):
        if not 0.0 < value < 1.0:
            raise ValueError(
                f'{name} as a fraction of the schedule must lie in (0, 1), got {value!r}; '
                'give a whole number of epochs as an integer'
            )
        return max(low, round(value * max_epochs))
    if value < low:
        raise ValueError(
            f'{name} must be an integer >= {low} or a fraction of the schedule in (0, 1), got {value!r}'
        )
    return value


def check_view_metainfo(metainfo: dict) -> None:
    """Raise ValueError unless a packed training sample carries what guided masking reads.

    Args:
        metainfo (dict): the metainfo of the training pipeline's packed data sample.
    """
    if metainfo.get('crop_box') is None:
        raise ValueError(
            'the training pipeline records no crop_box, which guided masking needs to warp each '
            "image's map to its view: use dict(type='FAMTRandomResizedCropWithBox', ...) instead of "
            "RandomResizedCrop, and pack with dict(type='PackFAMTInputs') (or keep 'crop_box' in "
            'PackInputs(meta_keys=...))'
        )
    if metainfo.get('sample_idx') is None:
        raise ValueError(
            'the training pipeline packs no sample_idx, by which guided masking finds each '
            "image's map: use an mmengine BaseDataset and pack with dict(type='PackFAMTInputs')"
        )


def is_random_transform(name: str) -> bool:
    """Whether a transform type draws at random (by mmpretrain's and mmcv's naming, plus the colour
    and blur augmentations that do not say so in their name)."""
    return (
        name.startswith('Random')
        or name in CROPS_WITH_BOX
        or name in ('ColorJitter', 'GaussianBlur', 'Solarize', 'RandAugment', 'AutoAugment', 'Lighting')
    )


def transform_type(transform) -> str:
    """The type name of a transform given as a config dict or as a built transform."""
    return str(transform.get('type')) if isinstance(transform, dict) else type(transform).__name__


def derive_scoring_pipeline(train_pipeline: Sequence, train_size: Tuple[int, int]) -> List:
    """The scoring pipeline of a training pipeline: its loading, a resize to the view's size, a packer.

    Maps are scored on whole images at the training input size (no crop, no flip), so the scoring
    pipeline keeps the transforms before the crop (loading, a fixed resize), resizes the whole image
    to the crop's output size with the crop's interpolation and backend, and packs with
    ``PackInputs``.

    Args:
        train_pipeline: the training dataset's pipeline: config dicts, or built transforms (an mmengine
            ``Compose``'s ``transforms``), which the scoring pipeline then shares.
        train_size: ``(height, width)`` of the training views (the crop's output).

    Raises:
        ValueError: where the rule does not fit (no crop that records its box, a two-picture crop, or
            a random transform before the crop): the hook then needs ``pipeline=[...]``.
    """
    types = [transform_type(t) for t in train_pipeline]
    crops = [i for i, name in enumerate(types) if name in CROPS_WITH_BOX]
    remedy = (
        'give FAMTRefreshHook(pipeline=[...]) explicitly: loading, a Resize to the training '
        f'size ({train_size[1]}, {train_size[0]}) (width, height), PackInputs'
    )
    if not crops:
        raise ValueError(
            f"the scoring pipeline is derived from the training pipeline's crop, but it "
            f'has none of {CROPS_WITH_BOX} (types: {types}); {remedy}'
        )
    crop_at = crops[0]
    crop = train_pipeline[crop_at]
    if types[crop_at] != CROPS_WITH_BOX[0]:
        raise ValueError(
            f'no scoring pipeline is derived around {types[crop_at]} (two pictures per crop); {remedy}'
        )
    random_before = [
        name
        for name in types[:crop_at]
        if is_random_transform(name) or not name.startswith(_DETERMINISTIC_PREFIXES)
    ]
    if random_before:
        raise ValueError(
            f'the training pipeline has {random_before} before its crop, which the scoring '
            f'pass must not apply at random; {remedy}'
        )
    resize = dict(type='Resize', scale=(train_size[1], train_size[0]))
    for key in _RESIZE_KEYS:
        value = crop.get(key) if isinstance(crop, dict) else getattr(crop, key, None)
        if value is not None:
            resize[key] = value
    return list(train_pipeline[:crop_at]) + [resize, dict(type='PackInputs')]


def configured_scoring_pipeline(cfg) -> List:
    """The scoring pipeline of a config's ``FAMTRefreshHook`` (config dicts): as the hook states it, or
    derived from the training pipeline's ``FAMTRandomResizedCropWithBox`` as the hook derives it. For tools
    that score outside a run.

    Raises:
        ValueError: the config has no refresh hook, or no pipeline can be derived.
    """
    hooks = [h for h in cfg.get('custom_hooks', []) if h.get('type') == 'FAMTRefreshHook']
    if not hooks:
        raise ValueError(
            'the config has no FAMTRefreshHook in custom_hooks, whose whole-image pipeline '
            'scoring uses: give a FAMT pretraining config'
        )
    if hooks[0].get('pipeline'):
        return list(hooks[0]['pipeline'])
    train = cfg.train_dataloader.dataset.pipeline
    crop = next((t for t in train if t.get('type') == CROPS_WITH_BOX[0]), {})
    scale = crop.get('scale', ())
    size = (scale, scale) if isinstance(scale, int) else tuple(scale)  # the crop's (h, w)
    return derive_scoring_pipeline(train, size)
