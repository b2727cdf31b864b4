"""The papers' evaluation protocol for one pretraining checkpoint: linear probe and fine-tuning.

``tools/evaluate.py`` is the command line. Given a pretraining work dir (or checkpoint) and a dataset,
it picks the dataset's benchmark configs (:data:`BENCHMARK_CONFIGS`), points them at the
checkpoint, gives their ViT the pretraining's architecture and patch size, trains and tests each with
mmengine's Runner, and writes one row (checkpoint, epochs, top-1) into a results table kept as JSON
and regenerated as markdown.
"""

import copy
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from ..checkpoint import read_checkpoint
from ..utils.configs import find_config

#: dataset name on the command line -> config suffix
DATASETS = ('cifar10', 'cifar100', 'stl10', 'tinyimagenet', 'in1k')
PROTOCOLS = ('linear', 'finetune')
#: dataset -> (patch size, linear-probe GPUs x batch, fine-tuning GPUs x batch) of its benchmark configs
_BENCHMARK_SHAPES = {
    'cifar10': (2, '1xb1024', '1xb256'),
    'cifar100': (2, '1xb1024', '1xb256'),
    'stl10': (6, '1xb512', '1xb256'),
    'tinyimagenet': (4, '1xb1024', '1xb256'),
    'in1k': (16, '8xb2048', '8xb128'),
}
TABLE_COLUMNS = (
    ('dataset', 'dataset'),
    ('pretraining', 'pretraining'),
    ('pretrain_epochs', 'pretrain epochs'),
    ('linear_epochs', 'linear epochs'),
    ('linear_top1', 'linear top-1'),
    ('finetune_epochs', 'fine-tune epochs'),
    ('finetune_top1', 'fine-tune top-1'),
    ('checkpoint', 'checkpoint'),
    ('overrides', 'overrides'),
)


def benchmark_config(protocol: str, dataset: str, simmim: bool = False) -> str:
    """Path of the benchmark config of ``protocol`` on ``dataset`` (SimMIM's fine-tuning recipe for a
    SimMIM checkpoint), from famt_mm's configs wherever the package is installed."""
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol must be one of {PROTOCOLS}, got {protocol!r}')
    if dataset not in DATASETS:
        raise ValueError(f'dataset must be one of {DATASETS}, got {dataset!r}')
    patch, linear_batch, finetune_batch = _BENCHMARK_SHAPES[dataset]
    if protocol == 'linear':
        name = f'vit-base-p{patch}_{linear_batch}-linear-coslr-90e_{dataset}.py'
    else:
        recipe = '-simmim' if simmim else ''
        name = f'vit-base-p{patch}_{finetune_batch}{recipe}-coslr-100e_{dataset}.py'
    return find_config(f'famt/benchmarks/{name}')


def find_checkpoint(path: str) -> str:
    """The checkpoint itself, or a work dir's latest one (mmengine's ``last_checkpoint`` record,
    else the highest ``epoch_N.pth``)."""
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path} is neither a checkpoint nor a pretraining work dir')
    record = osp.join(path, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            last = f.read().strip()
        candidate = last if osp.isabs(last) else osp.join(path, last)
        if osp.isfile(candidate):
            return candidate
        candidate = osp.join(path, osp.basename(last))  # work dir moved since
        if osp.isfile(candidate):
            return candidate
    epochs = [
        (int(name[6:-4]), name)
        for name in os.listdir(path)
        if name.startswith('epoch_') and name.endswith('.pth') and name[6:-4].isdigit()
    ]
    if not epochs:
        raise FileNotFoundError(f'no checkpoint in {path} (no last_checkpoint, no epoch_N.pth)')
    return osp.join(path, max(epochs)[1])


def read_pretraining(checkpoint: str) -> Tuple[Config, dict]:
    """The pretraining config and meta that mmengine stored in ``checkpoint``."""
    ckpt = read_checkpoint(checkpoint, mmap=True)
    meta = ckpt.get('meta') or {}
    if 'cfg' not in meta:
        raise ValueError(
            f'{checkpoint} holds no pretraining config (meta["cfg"]): evaluate '
            "checkpoints written by mmengine's Runner (tools/train.py)"
        )
    return Config.fromstring(meta['cfg'], file_format='.py'), meta


def describe_pretraining(cfg: Config) -> str:
    """A short name of the pretraining: algorithm, masking and ratios."""
    algorithm = str(cfg.model.get('type', '?'))
    algorithm = (
        'SimMIM' if 'simmim' in algorithm.lower() else 'MAE' if 'mae' in algorithm.lower() else algorithm
    )
    preprocessor = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    generator = preprocessor.get('mask_generator')
    if not generator:
        return algorithm
    kind = generator.get('type', '?').replace('MaskGenerator', '')
    ratios = f'mask {generator.get("mask_ratio", "?")}'
    if generator.get('throw_ratio'):
        ratios += f', throw {generator["throw_ratio"]}'
    if kind == 'FAMTRandom':  # the stock random masking, drawn through famt_mm's plan
        return f'{algorithm} (random, {ratios})'
    return f'{kind}-{algorithm} ({ratios})'


def vit_dims(arch) -> Tuple[int, int]:
    """(embed_dims, num_layers) of an mmpretrain ViT ``arch`` (a name or a dict)."""
    if isinstance(arch, str):
        from mmpretrain.models import VisionTransformer

        if arch.lower() not in VisionTransformer.arch_zoo:
            raise ValueError(
                f'unknown ViT arch {arch!r}; choose from {sorted(VisionTransformer.arch_zoo)} or give a dict'
            )
        arch = VisionTransformer.arch_zoo[arch.lower()]
    return int(arch['embed_dims']), int(arch['num_layers'])


def adapt_to_pretraining(cfg: Config, pretrain_cfg: Config) -> List[str]:
    """Give ``cfg``'s ViT the pretraining encoder's shape; return what changed, for the log.

    The benchmark configs assume ViT-B at the dataset's default patch size. This copies the
    pretraining backbone's ``arch`` and ``patch_size`` (with the widths of neck and head, and
    ``frozen_stages`` covering every block when the config freezes the backbone) and the
    normalisation the encoder was trained with. The input size stays the benchmark's: a
    different pretraining size is handled by the ViT's position-embedding resize on load.
    """
    notes = []
    source = pretrain_cfg.model.backbone
    backbone = cfg.model.backbone
    arch = copy.deepcopy(source.get('arch', 'base'))
    arch = arch.to_dict() if isinstance(arch, ConfigDict) else arch
    embed_dims, num_layers = vit_dims(arch)
    if vit_dims(backbone.get('arch', 'base')) != (embed_dims, num_layers):
        notes.append(f'backbone arch {backbone.get("arch")!r} -> {arch!r}')
    backbone.arch = arch
    if backbone.get('frozen_stages', -1) > 0:
        backbone.frozen_stages = num_layers
    patch_size = source.get('patch_size', 16)
    if backbone.get('patch_size') != patch_size:
        notes.append(f'patch_size {backbone.get("patch_size")} -> {patch_size}')
        backbone.patch_size = patch_size
    if source.get('img_size', 224) != backbone.get('img_size', 224):
        notes.append(
            f'input {backbone.get("img_size", 224)} px (pretrained at '
            f'{source.get("img_size", 224)} px: position embeddings resized)'
        )
    neck = cfg.model.get('neck')
    if neck and 'input_features' in neck:
        neck.input_features = embed_dims
    cfg.model.head.in_channels = embed_dims
    normalisation = pretrain_cfg.model.get('data_preprocessor') or pretrain_cfg.get('data_preprocessor') or {}
    for key in ('mean', 'std'):
        if key in normalisation and list(normalisation[key]) != list(cfg.data_preprocessor[key]):
            notes.append(f'{key} {list(cfg.data_preprocessor[key])} -> {list(normalisation[key])}')
            cfg.data_preprocessor[key] = list(normalisation[key])
    return notes


def without_amp_on_cpu(cfg: Config) -> bool:
    """mmengine's AmpOptimWrapper needs a GPU: on a CPU-only machine train in fp32 instead."""
    if torch.cuda.is_available() or cfg.optim_wrapper.get('type') != 'AmpOptimWrapper':
        return False
    cfg.optim_wrapper.type = 'OptimWrapper'
    for key in ('loss_scale', 'dtype'):
        cfg.optim_wrapper.pop(key, None)
    return True


def set_data_root(cfg: Config, data_root: str) -> None:
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader):
            cfg[loader].dataset.data_root = data_root


def build_protocol_cfg(
    protocol: str,
    dataset: str,
    checkpoint: str,
    pretrain_cfg: Config,
    work_dir: str,
    config: Optional[str] = None,
    data_root: Optional[str] = None,
    cfg_options: Optional[dict] = None,
    launcher: str = 'none',
) -> Tuple[Config, List[str]]:
    """The runnable config of one protocol for ``checkpoint``, and notes on what was adapted."""
    if config is None:
        simmim = 'simmim' in str(pretrain_cfg.model.get('type', '')).lower()
        config = benchmark_config(protocol, dataset, simmim)
    cfg = Config.fromfile(config)
    init_cfg = cfg.model.backbone.get('init_cfg')
    if not isinstance(init_cfg, dict) or init_cfg.get('type') != 'Pretrained':
        raise ValueError(
            f"{config}: model.backbone.init_cfg must be dict(type='Pretrained', "
            f"prefix='backbone.', ...) for the checkpoint to load, got {init_cfg!r}"
        )
    init_cfg.checkpoint = osp.abspath(checkpoint)
    notes = adapt_to_pretraining(cfg, pretrain_cfg)
    if data_root:
        set_data_root(cfg, data_root)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if without_amp_on_cpu(cfg):
        notes.append('AmpOptimWrapper -> OptimWrapper (no GPU)')
    cfg.work_dir = work_dir
    cfg.launcher = launcher
    return cfg, notes


def run_protocol(cfg: Config) -> Dict[str, float]:
    """Train with mmengine's Runner, then test the final weights; returns epochs and top-1."""
    from mmpretrain.registry import RUNNERS  # the config's runner_type (FAMTRunner), as tools/train.py

    runner = RUNNERS.build(cfg)
    runner.train()
    metrics = runner.test()
    top1 = metrics.get('accuracy/top1')
    if top1 is None:
        raise KeyError(f'the test metrics hold no accuracy/top1: {sorted(metrics)}')
    return dict(epochs=int(runner.epoch), top1=float(top1))


def update_table(row: dict, table: str) -> Tuple[str, str]:
    """Insert or replace ``row`` (keyed by checkpoint and dataset) in ``table``.json and rewrite
    ``table``.md from all rows; returns both paths."""
    json_path, md_path = f'{table}.json', f'{table}.md'
    rows = []
    if osp.isfile(json_path):
        with open(json_path) as f:
            rows = json.load(f)
    key = (row['checkpoint'], row['dataset'])
    rows = [r for r in rows if (r.get('checkpoint'), r.get('dataset')) != key] + [row]
    os.makedirs(osp.dirname(osp.abspath(json_path)), exist_ok=True)
    with open(json_path, 'w') as f:
        json.dump(rows, f, indent=2)
    with open(md_path, 'w') as f:
        f.write(render_markdown(rows))
    return json_path, md_path


def render_markdown(rows: Sequence[dict]) -> str:
    """The results table in markdown; top-1 in percent, empty cells for protocols not run."""

    def cell(row, key):
        value = row.get(key)
        if value is None:
            return ''
        if key.endswith('top1'):
            return f'{value:.2f}'
        return str(value).replace('|', '\\|')

    header = '| ' + ' | '.join(title for _, title in TABLE_COLUMNS) + ' |'
    rule = '|' + '|'.join('---' for _ in TABLE_COLUMNS) + '|'
    lines = [header, rule] + ['| ' + ' | '.join(cell(r, k) for k, _ in TABLE_COLUMNS) + ' |' for r in rows]
    return '\n'.join(lines) + '\n'


def evaluate(
    pretrain: str,
    dataset: str,
    protocols: Sequence[str] = PROTOCOLS,
    table: str = 'work_dirs/famt_results',
    work_dir: Optional[str] = None,
    data_root: Optional[str] = None,
    configs: Optional[Dict[str, str]] = None,
    cfg_options: Optional[dict] = None,
    launcher: str = 'none',
) -> dict:
    """Probe and/or fine-tune the checkpoint of ``pretrain`` (work dir or file) on ``dataset``."""
    from mmengine.dist import is_main_process

    checkpoint = find_checkpoint(pretrain)
    pretrain_cfg, meta = read_pretraining(checkpoint)
    if work_dir is None:
        base = pretrain if osp.isdir(pretrain) else osp.dirname(checkpoint)
        work_dir = osp.join(base, f'eval_{dataset}')
    overrides = ' '.join(f'{k}={v}' for k, v in (cfg_options or {}).items())
    row = dict(
        dataset=dataset,
        pretraining=describe_pretraining(pretrain_cfg),
        pretrain_epochs=meta.get('epoch'),
        checkpoint=osp.abspath(checkpoint),
        overrides=overrides or None,
    )
    for protocol in protocols:
        cfg, notes = build_protocol_cfg(
            protocol,
            dataset,
            checkpoint,
            pretrain_cfg,
            osp.join(work_dir, protocol),
            (configs or {}).get(protocol),
            data_root,
            cfg_options,
            launcher,
        )
        if notes:
            print_log(f'{protocol}: adapted to the pretraining: {"; ".join(notes)}', logger='current')
        result = run_protocol(cfg)
        row[f'{protocol}_epochs'] = result['epochs']
        row[f'{protocol}_top1'] = result['top1']
    if is_main_process():
        json_path, md_path = update_table(row, table)
        print_log(f'results: {json_path}, {md_path}', logger='current')
    return row
