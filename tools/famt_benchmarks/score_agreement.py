"""How closely X-ViT's scoring maps follow the softmax ViT's, for each reading of its signed attention.

The library of ``tools/score_agreement.py``. X-ViT's last-block attention has no softmax; the backbone's
``score_attention`` says how AMT's and FAMT's formulas read it (:func:`famt_mm.core.signed_attention_rows`:
``clip``, ``shift`` or ``abs``). For trained ViT and X-ViT models of the same config family (the digits
demo's, e.g. the runs of ``tools/demo_accuracy_for_time.py --variants arch``), both score the same whole
images (the refresh hook's pipeline); per image the Spearman rank correlation of the two maps is taken
and averaged over the images. Seeds pair the models (ViT seed s with X-ViT seed s); as the level that
two independently trained models reach anyway, ViT seed s is also compared with ViT seed s + 1.

Two trained models differ in more than the reading, so one comparison holds everything else fixed:
each ViT's maps from its softmax attention against the maps of the same ViT's last block with the
softmax replaced by the cosine similarities of the same queries and keys (X-ViT's attention with
``norm_axis='head_channels'``), read each way; the tokens are the same.
"""

import statistics
from typing import Dict, List, Sequence

import torch

from famt_mm.core import SIGNED_ROWS

#: the weights compared: FAMT's product, FAMT's attention term alone (the reading acts on it only) and
#: AMT's
GENERATORS: Dict[str, dict] = {
    'FAMT': dict(type='FAMTMaskGenerator'),
    'FAMT attention term': dict(type='FAMTMaskGenerator', weight_source='attention'),
    'AMT': dict(type='AMTMaskGenerator'),
}


def load_model(config: str, checkpoint: str) -> torch.nn.Module:
    """The config's model with the checkpoint's weights (every key, strictly), in eval mode."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from famt_mm.checkpoint import read_checkpoint, unwrap_state_dict

    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.to_dict()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor.to_dict())
    model = MODELS.build(model_cfg)
    state_dict, _ = unwrap_state_dict(read_checkpoint(checkpoint), checkpoint)
    model.load_state_dict(state_dict)
    return model.eval()


def whole_images(config: str, num_images: int) -> dict:
    """The first ``num_images`` of the digits' held-out split through the config's refresh pipeline
    (no crop, no flip), as a batch for the data preprocessor."""
    from mmengine.config import Config
    from mmengine.dataset import Compose, default_collate

    from famt_mm.datasets import SklearnDigits
    from famt_mm.engine.checks import configured_scoring_pipeline

    cfg = Config.fromfile(config)
    pipeline = Compose([t for t in configured_scoring_pipeline(cfg) if t['type'] != 'LoadImageFromFile'])
    dataset = SklearnDigits(split='test', lazy_init=False)
    count = min(num_images, len(dataset))
    return default_collate(
        [
            pipeline(
                dict(
                    img=(img := dataset.get_data_info(i)['img']),
                    img_shape=img.shape[:2],
                    ori_shape=img.shape[:2],
                    sample_idx=i,
                )
            )
            for i in range(count)
        ]
    )


@torch.no_grad()
def maps_of(model: torch.nn.Module, batch: dict, generator: dict) -> torch.Tensor:
    """(B, h * w) importance maps of the model under ``generator`` (a mask generator config)."""
    from mmpretrain.registry import MODELS

    from famt_mm.models import score_images

    inputs = model.data_preprocessor(batch, training=False)['inputs']
    return score_images(model, inputs, MODELS.build(dict(generator))).flatten(1)


def spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over rows of the Spearman rank correlation of rows of ``a`` and ``b`` (B, L), ties averaged."""
    from scipy.stats import spearmanr

    values = [spearmanr(x, y).statistic for x, y in zip(a.double().numpy(), b.double().numpy())]
    return float(sum(values) / len(values))


@torch.no_grad()
def softmax_and_cosines(model: torch.nn.Module, batch: dict):
    """The ViT's :class:`LastBlock` (softmax attention, tokens) on the batch, and the cosine
    similarities (B, H, N, N) of the same block's queries and keys."""
    import torch.nn.functional as F

    from famt_mm.models.masking.scoring import read_last_block

    attn = model.backbone.layers[-1].attn
    captured = {}
    hook = attn.register_forward_hook(lambda m, args, out: captured.update(x=args[0]))
    try:
        block = read_last_block(model, model.data_preprocessor(batch, training=False)['inputs'])
    finally:
        hook.remove()
    x = captured['x']
    qkv = attn.qkv(x).reshape(x.shape[0], x.shape[1], 3, attn.num_heads, attn.head_dims)
    q, k = F.normalize(qkv.permute(2, 0, 3, 1, 4)[:2].float(), dim=-1)
    return block, q @ k.transpose(-2, -1)


def reading_agreement(
    vit_models: Sequence[torch.nn.Module], batch: dict
) -> Dict[str, Dict[str, List[float]]]:
    """Per reading and generator, one mean rank correlation per ViT: its softmax maps against its
    cosine maps read that way (see the module docstring)."""
    from mmpretrain.registry import MODELS

    from famt_mm.core import signed_attention_rows

    out: Dict[str, Dict[str, List[float]]] = {}
    blocks = [softmax_and_cosines(m, batch) for m in vit_models]
    for name, generator in GENERATORS.items():
        gen = MODELS.build(dict(generator))
        for mode in SIGNED_ROWS:
            rows = out.setdefault(f'ViT softmax vs its own cosines ({mode})', {}).setdefault(name, [])
            for block, cosines in blocks:
                softmax_maps = gen.importance(block.attn, block.tokens)
                read_maps = gen.importance(signed_attention_rows(cosines, mode), block.tokens)
                rows.append(spearman(softmax_maps, read_maps))
    return out


def agreement(
    vit_models: Sequence[torch.nn.Module], xvit_models: Sequence[torch.nn.Module], batch: dict
) -> Dict[str, Dict[str, List[float]]]:
    """Per comparison and generator, one mean rank correlation per seed.

    Comparisons: ``ViT vs X-ViT (MODE)`` for each reading and, with two seeds or more,
    ``ViT vs ViT (next seed)``.
    """
    out: Dict[str, Dict[str, List[float]]] = {}
    for name, generator in GENERATORS.items():
        vit_maps = [maps_of(m, batch, generator) for m in vit_models]
        for mode in SIGNED_ROWS:
            rows = out.setdefault(f'ViT vs X-ViT ({mode})', {}).setdefault(name, [])
            for vit, xvit in zip(vit_maps, xvit_models):
                xvit.backbone.score_attention = mode
                rows.append(spearman(vit, maps_of(xvit, batch, generator)))
        if len(vit_maps) > 1:
            out.setdefault('ViT vs ViT (next seed)', {})[name] = [
                spearman(vit_maps[i], vit_maps[(i + 1) % len(vit_maps)]) for i in range(len(vit_maps))
            ]
    return out


def markdown_table(result: Dict[str, Dict[str, List[float]]]) -> str:
    names = list(GENERATORS)
    lines = [
        '| maps compared | ' + ' | '.join(f'{n}: Spearman (mean ± std over seeds)' for n in names) + ' |',
        '|---|' + '---:|' * len(names),
    ]
    for comparison, per_generator in result.items():
        cells = []
        for name in names:
            values = per_generator[name]
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f'{statistics.mean(values):.3f} ± {std:.3f}')
        lines.append(f'| {comparison} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)
