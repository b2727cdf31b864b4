"""Do a config's top-level knobs reach the dicts that use them?

mmengine evaluates a base config with the base's knob values and merges only the dicts a child config
restates, so a child that changes ``img_size = 48`` without restating ``model`` still builds a 32-px
model. :func:`check_knobs` compares every knob a loaded config holds (its own or inherited) with each
place that uses it and returns the disagreements; :data:`RULES` says where each knob is used.
"""
import ast
from typing import Any, Callable, Dict, Iterator, List, Tuple

MISSING = object()

#: top-level names that are mmengine's or the recipe's own dicts, not knobs
STRUCTURE = frozenset({
    '_base_', 'custom_imports', 'default_scope', 'model', 'data_preprocessor', 'train_pipeline',
    'test_pipeline', 'score_pipeline', 'whole_image_pipeline', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'val_evaluator', 'test_evaluator', 'custom_hooks', 'default_hooks',
    'optim_wrapper', 'param_scheduler', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'randomness', 'fp16', 'probe_loader'})

#: knobs no rule checks, and why (a knob missing from here and from RULES fails the test)
UNCHECKED = {
    'base_lr': 'scaled by the total batch inside optim_wrapper and param_scheduler (SimMIM)',
}

Use = Tuple[str, Any, Any]  # (where, value found there, value the knobs give)


def get(cfg: Any, path: str) -> Any:
    """``cfg`` at a dotted ``path`` (integers index lists); :data:`MISSING` where it is absent."""
    node = cfg
    for part in path.split('.'):
        if isinstance(node, (list, tuple)) and part.lstrip('-').isdigit():
            index = int(part)
            node = node[index] if -len(node) <= index < len(node) else MISSING
        elif isinstance(node, dict):
            node = node.get(part, MISSING)
        else:
            return MISSING
        if node is MISSING:
            return MISSING
    return node


def _plain(value: Any) -> Any:
    """Dicts and lists as plain Python, tuples as lists, without mmengine's merge and scope marks."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ('_delete_', '_scope_')}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _at(cfg: Any, expected: Any, *paths: str) -> Iterator[Use]:
    for path in paths:
        found = get(cfg, path)
        if found is not MISSING:
            yield path, found, expected


def _hooks(cfg: Any, hook_type: str) -> List[Tuple[str, dict]]:
    return [(f'custom_hooks.{i}({hook_type})', h) for i, h in enumerate(cfg.get('custom_hooks') or [])
            if isinstance(h, dict) and h.get('type') == hook_type]


def _transforms(pipeline: Any, where: str, types: Tuple[str, ...]) -> List[Tuple[str, dict]]:
    return [(f'{where}.{i}({t["type"]})', t) for i, t in enumerate(pipeline or [])
            if isinstance(t, dict) and t.get('type') in types]


def _pipelines(cfg: Any) -> Iterator[Tuple[str, Any]]:
    """Every pipeline the Runner or a hook uses."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        pipeline = get(cfg, f'{loader}.dataset.pipeline')
        if pipeline is not MISSING:
            yield f'{loader}.dataset.pipeline', pipeline
    for where, hook in _hooks(cfg, 'FAMTRefreshHook') + _hooks(cfg, 'FAMTVisualizationHook'):
        yield f'{where}.pipeline', hook.get('pipeline')
    for where, hook in _hooks(cfg, 'LinearProbeHook'):
        for loader in ('train_dataloader', 'test_dataloader'):
            yield f'{where}.{loader}.dataset.pipeline', get(hook, f'{loader}.dataset.pipeline')


def _hook_field(field: str) -> Callable[[Any, Any], Iterator[Use]]:
    def rule(cfg, value):
        for where, hook in _hooks(cfg, 'FAMTRefreshHook'):
            yield f'{where}.{field}', hook.get(field, MISSING), value
    return rule


def _img_size(cfg, img_size):
    yield from _at(cfg, img_size, 'model.backbone.img_size', 'model.input_size')  # SparK: input_size
    for where, pipeline in _pipelines(cfg):
        crops = _transforms(pipeline, where, ('RandomResizedCropWithBox', 'RandomResizedCrop'))
        for crop_where, crop in crops:
            yield f'{crop_where}.scale', crop.get('scale'), img_size
        # the whole-image pipelines (scoring, probing, the demo's training input) resize to the
        # training size; fine-tuning's test pipelines take the images as they are
        for resize_where, resize in _transforms(pipeline, where, ('Resize',)):
            yield f'{resize_where}.scale', _plain(resize.get('scale')), [img_size, img_size]


def _pipeline_mask(field: str) -> Callable[[Any, Any], Iterator[Use]]:
    """``field`` of the ``SimMIMMaskGenerator`` a training pipeline draws its mask with (A2MIM)."""
    def rule(cfg, value):
        pipeline = get(cfg, 'train_dataloader.dataset.pipeline')
        where = 'train_dataloader.dataset.pipeline'
        for t_where, t in _transforms(pipeline if pipeline is not MISSING else [], where,
                                      ('SimMIMMaskGenerator', )):
            yield f'{t_where}.{field}', t.get(field, MISSING), value
    return rule


def _patches(cfg, img_size, patch_size):
    yield from _at(cfg, (img_size // patch_size)**2, 'model.neck.num_patches')


def _patch_size(cfg, patch_size):
    yield from _at(cfg, patch_size, 'data_preprocessor.patch_size', 'model.backbone.patch_size',
                   'model.neck.patch_size', 'model.head.patch_size', 'model.neck.encoder_stride',
                   # SparK: the masking unit is the final stride
                   'model.downsample_raito', 'model.neck.upsample_ratio')


def _max_epochs(cfg, max_epochs):
    yield from _at(cfg, max_epochs, 'train_cfg.max_epochs')
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, list) and schedulers and schedulers[-1].get('by_epoch', True):
        yield 'param_scheduler.-1.end', schedulers[-1].get('end'), max_epochs


def _warmup(cfg, max_epochs, warmup_epochs):
    for i, scheduler in enumerate(cfg.get('param_scheduler') or []):
        if scheduler.get('type') == 'LinearLR':
            yield f'param_scheduler.{i}(LinearLR).end', scheduler.get('end'), warmup_epochs
        if scheduler.get('type') == 'CosineAnnealingLR':
            yield f'param_scheduler.{i}(CosineAnnealingLR).begin', scheduler.get('begin'), warmup_epochs
            yield (f'param_scheduler.{i}(CosineAnnealingLR).T_max', scheduler.get('T_max'),
                   max_epochs - warmup_epochs)


def _dataset_path(cfg: Any, loader: str) -> str:
    """The path of a loader's dataset, inside wrappers such as mmdet's ``RepeatDataset``."""
    path = f'{loader}.dataset'
    while isinstance(get(cfg, f'{path}.dataset'), dict):
        path += '.dataset'
    return path


def _loaders(field: str, *loaders: str) -> Callable[[Any, Any], Iterator[Use]]:
    """``field`` of each loader (``batch_size``) or, as ``dataset.x``, of its innermost dataset."""
    def rule(cfg, value):
        for loader in loaders:
            if field.startswith('dataset.'):
                yield from _at(cfg, value, f'{_dataset_path(cfg, loader)}.{field[len("dataset."):]}')
            else:
                yield from _at(cfg, value, f'{loader}.{field}')
    return rule


_ALL_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _test_split(cfg, test_split):
    yield from _at(cfg, test_split, 'val_dataloader.dataset.split', 'test_dataloader.dataset.split')


def _augment(field: str) -> Callable[[Any, Any], Iterator[Use]]:
    def rule(cfg, value):
        for where, pipeline in _pipelines(cfg):
            for t_where, t in _transforms(pipeline, where, ('RandAugment', 'RandomErasing')):
                found = get(t, f'hparams.{field}') if t['type'] == 'RandAugment' else t.get(field, MISSING)
                if found is not MISSING:
                    yield f'{t_where}.{field}', _plain(found), _plain(value)
    return rule


def _hook_pipelines(hook_type: str) -> Callable[[Any, Any], Iterator[Use]]:
    def rule(cfg, value):
        for where, hook in _hooks(cfg, hook_type):
            yield f'{where}.pipeline', _plain(hook.get('pipeline')), _plain(value)
    return rule


def _probe_pipelines(cfg, value):
    for where, pipeline in _pipelines(cfg):
        if where.startswith('custom_hooks'):
            yield where, _plain(pipeline), _plain(value)


def _image_size(cfg, image_size):  # mmdet: the LSJ crop, a (height, width) pair
    yield from _at(cfg, image_size[0], 'model.backbone.img_size', 'model.data_preprocessor.pad_size_divisor')


def _lr_steps(cfg, lr_steps):
    for i, scheduler in enumerate(cfg.get('param_scheduler') or []):
        if scheduler.get('type') == 'MultiStepLR':
            yield f'param_scheduler.{i}(MultiStepLR).milestones', _plain(scheduler.get('milestones')), \
                _plain(lr_steps)


def _warmup_iters(cfg, warmup_iters):
    for i, scheduler in enumerate(cfg.get('param_scheduler') or []):
        if scheduler.get('type') == 'LinearLR' and not scheduler.get('by_epoch', True):
            yield f'param_scheduler.{i}(LinearLR).end', scheduler.get('end'), warmup_iters


def _same(*paths: str) -> Callable[[Any, Any], Iterator[Use]]:
    def rule(cfg, value):
        for path in paths:
            found = get(cfg, path)
            if found is not MISSING:
                yield path, _plain(found), _plain(value)
    return rule


#: (knobs a rule needs, the rule): a rule runs when the config holds all its knobs
RULES: List[Tuple[Tuple[str, ...], Callable[..., Iterator[Use]]]] = [
    # masking
    (('mask_generator',), _same('data_preprocessor.mask_generator')),
    (('mask_ratio',), lambda cfg, v: _at(cfg, v, 'data_preprocessor.mask_generator.mask_ratio',
                                         'model.mask_ratio')),  # SparK's own (unused) ratio
    (('mask_ratio',), _pipeline_mask('mask_ratio')),
    (('img_size',), _pipeline_mask('input_size')),
    (('patch_size',), _pipeline_mask('model_patch_size')),
    (('throw_ratio',), lambda cfg, v: _at(cfg, v, 'data_preprocessor.mask_generator.throw_ratio')),
    (('warmup_mask_ratio',),
     lambda cfg, v: _at(cfg, v, 'data_preprocessor.mask_generator.warmup_mask_ratio')),
    (('count_rounding',),
     lambda cfg, v: _at(cfg, v, 'data_preprocessor.mask_generator.count_rounding')),
    (('unit_size',), lambda cfg, v: _at(cfg, v, 'data_preprocessor.unit_size')),
    # refresh
    (('refresh_start_epoch',), _hook_field('start_epoch')),
    (('refresh_interval',), _hook_field('interval')),
    (('refresh_batch_size',), _hook_field('batch_size')),
    # resolution
    (('img_size',), _img_size),
    (('patch_size',), _patch_size),
    (('img_size', 'patch_size'), _patches),
    (('num_patches',), lambda cfg, v: _at(cfg, v, 'model.neck.num_patches')),
    # schedule and optimiser
    (('max_epochs',), _max_epochs),
    (('max_epochs', 'warmup_epochs'), _warmup),
    (('lr',), lambda cfg, v: _at(cfg, v, 'optim_wrapper.optimizer.lr')),
    (('weight_decay',), lambda cfg, v: _at(cfg, v, 'optim_wrapper.optimizer.weight_decay')),
    (('layer_decay_rate',), lambda cfg, v: _at(cfg, v, 'optim_wrapper.paramwise_cfg.layer_decay_rate')),
    # data
    (('batch_size',), _loaders('batch_size', *_ALL_LOADERS)),
    (('num_workers',), _loaders('num_workers', *_ALL_LOADERS)),
    (('dataset_type',), _loaders('dataset.type', *_ALL_LOADERS)),
    (('data_root',), _loaders('dataset.data_root', *_ALL_LOADERS)),
    (('split',), lambda cfg, v: _at(cfg, v, 'train_dataloader.dataset.split')),
    (('test_split',), _test_split),
    (('num_classes',), lambda cfg, v: _at(cfg, v, 'data_preprocessor.num_classes', 'model.head.num_classes')),
    (('pad_val',), _augment('pad_val')),
    (('fill_color',), _augment('fill_color')),
    (('fill_std',), _augment('fill_std')),
    # pipelines kept as top-level names must be the ones in use
    (('train_pipeline',), _same('train_dataloader.dataset.pipeline')),
    (('score_pipeline',), _hook_pipelines('FAMTRefreshHook')),
    (('whole_image_pipeline',), _probe_pipelines),
    # benchmarks: the pretraining checkpoint
    (('checkpoint',), lambda cfg, v: _at(cfg, v, 'model.backbone.init_cfg.checkpoint')),
    # downstream (mmdet / mmseg)
    (('pretrained',), lambda cfg, v: _at(cfg, v, 'model.backbone.init_cfg.checkpoint')),
    (('image_size',), _image_size),
    (('embed_dims',), lambda cfg, v: _at(cfg, v, 'model.backbone.embed_dims', 'model.neck.in_channels')),
    (('depth',), lambda cfg, v: _at(cfg, v, 'model.backbone.depth')),
    (('num_heads',), lambda cfg, v: _at(cfg, v, 'model.backbone.num_heads')),
    (('pretrain_img_size',), lambda cfg, v: _at(cfg, v, 'model.backbone.pretrain_img_size')),
    (('window_size',), lambda cfg, v: _at(cfg, v, 'model.backbone.window_size')),
    (('global_block_indexes',), _same('model.backbone.global_block_indexes')),
    (('drop_path_rate',), lambda cfg, v: _at(cfg, v, 'model.backbone.drop_path_rate')),
    (('warmup_iters',), _warmup_iters),
    (('repeat_times',), lambda cfg, v: _at(cfg, v, 'train_dataloader.dataset.times')),
    (('lr_steps',), _lr_steps),
    (('norm_cfg',), _same('model.neck.norm_cfg', 'model.roi_head.bbox_head.norm_cfg',
                          'model.roi_head.mask_head.norm_cfg')),
]

KNOWN = frozenset(k for knobs, _ in RULES for k in knobs) | frozenset(UNCHECKED)


def knob_uses(cfg: Any) -> Dict[str, List[Use]]:
    """Each knob ``cfg`` holds, with every place a rule finds it used."""
    if hasattr(cfg, 'to_dict'):  # an mmengine Config is no dict
        cfg = cfg.to_dict()
    uses: Dict[str, List[Use]] = {}
    for knobs, rule in RULES:
        if all(k in cfg for k in knobs):
            found = list(rule(cfg, *(cfg[k] for k in knobs)))
            uses.setdefault(' + '.join(knobs), []).extend(found)
    return uses


def check_knobs(cfg: Any) -> List[str]:
    """The disagreements between ``cfg``'s knobs and the dicts that use them, one line each."""
    problems = []
    for knobs, uses in knob_uses(cfg).items():
        for where, found, expected in uses:
            if _plain(found) != _plain(expected):
                problems.append(f'{knobs}: {where} is {found!r}, the knobs give {expected!r}')
    return problems


def own_knobs(source: str) -> List[str]:
    """The knob names a config file assigns at its top level (structure dicts and functions aside)."""
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return [n for n in names if n not in STRUCTURE]
