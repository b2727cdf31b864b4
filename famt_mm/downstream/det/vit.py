"""A plain ViT backbone for mmdet in the ViTDet style, loading exported MIM checkpoints strictly.

mmdet ships no plain-ViT detector backbone (its ViTDet lives in the repository's projects/ folder). This
one follows ViTDet (Li et al., "Exploring Plain Vision Transformer Backbones for Object Detection",
2022): windowed attention in most blocks and global attention in a few, decomposed relative positions,
no CLS token, absolute positions kept at the pretraining resolution and interpolated to the input's
patch grid, one stride-16 feature map. Its attention and window helpers are mmpretrain's (``ViTSAM``
shares them with ViTDet); its keys are those of mmdet's projects/ViTDet ``ViT``.
"""

from typing import Optional, Sequence, Tuple

import torch
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmdet.registry import MODELS
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.backbones.vit_sam import Attention, window_partition, window_unpartition
from mmpretrain.models.utils import resize_pos_embed
from torch import nn

from ...checkpoint import MMDET, read_loadable


class Mlp(nn.Module):
    """The ViT feed-forward block: ``fc2(act(fc1(x)))``."""

    def __init__(self, embed_dims: int, hidden_dims: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dims, embed_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """A pre-norm transformer block on (B, H, W, C) tokens, attending within windows or globally.

    Args:
        embed_dims: token width.
        num_heads: attention heads.
        mlp_ratio: hidden width of the MLP over ``embed_dims``.
        qkv_bias: bias in the qkv projection.
        drop_path: stochastic depth rate of both residual branches.
        norm_cfg: token norm.
        use_rel_pos: add decomposed relative positions to the attention logits.
        window_size: window side in patches; 0 for global attention.
        input_size: patch grid of the training input (sizes the global blocks' position tables).
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        mlp_ratio: float,
        qkv_bias: bool,
        drop_path: float,
        norm_cfg: dict,
        use_rel_pos: bool,
        window_size: int,
        input_size: Tuple[int, int],
    ) -> None:
        super().__init__()
        self.window_size = window_size
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = Attention(
            embed_dims,
            num_heads=num_heads,
            qkv_bias=qkv_bias,
            use_rel_pos=use_rel_pos,
            input_size=(window_size, window_size) if window_size else input_size,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.mlp = Mlp(embed_dims, int(embed_dims * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut, x = x, self.norm1(x)
        if self.window_size:
            hw = x.shape[1:3]
            x, padded_hw = window_partition(x, self.window_size)
            x = window_unpartition(self.attn(x), self.window_size, padded_hw, hw)
        else:
            x = self.attn(x)
        x = shortcut + self.drop_path(x)
        return x + self.drop_path(self.mlp(self.norm2(x)))


@MODELS.register_module()
class FAMTPlainViT(BaseModule):
    """Plain ViT for detection (ViTDet style); returns one (B, C, H/16, W/16) map as a 1-tuple.

    Pretrained weights come from ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``, a backbone
    exported by ``tools/export_backbone.py`` (or any checkpoint in these key names under ``model`` or
    ``state_dict``, such as MAE's official one). Unlike mmdet's non-strict loaders this one refuses a
    checkpoint that leaves any weight uninitialised other than the relative position tables, which
    no plain pretrained ViT has and which start at zero.

    Args:
        img_size: training input side in pixels; sizes the global blocks' relative position tables.
        patch_size: patch side in pixels.
        in_channels: image channels.
        embed_dims: token width.
        depth: number of blocks.
        num_heads: attention heads.
        mlp_ratio: MLP hidden width over ``embed_dims``.
        qkv_bias: bias in the qkv projections.
        drop_path_rate: stochastic depth, rising linearly to this rate at the last block.
        window_size: window side in patches of the windowed blocks.
        global_block_indexes: blocks with global attention (ViTDet-B: 2, 5, 8, 11).
        use_rel_pos: decomposed relative positions in every block.
        pretrain_img_size: pretraining input side; ``pos_embed`` keeps its patch grid.
        pretrain_use_cls_token: ``pos_embed`` keeps the pretraining CLS position (unused here).
        norm_cfg: token norm.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` or None for a random start.
    """

    def __init__(
        self,
        img_size: int = 1024,
        patch_size: int = 16,
        in_channels: int = 3,
        embed_dims: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path_rate: float = 0.0,
        window_size: int = 14,
        global_block_indexes: Sequence[int] = (2, 5, 8, 11),
        use_rel_pos: bool = True,
        pretrain_img_size: int = 224,
        pretrain_use_cls_token: bool = True,
        norm_cfg: dict = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        if norm_cfg is None:
            norm_cfg = dict(type='LN', eps=1e-06)
        super().__init__(init_cfg=init_cfg)
        for name, value in (
            ('img_size', img_size),
            ('patch_size', patch_size),
            ('pretrain_img_size', pretrain_img_size),
            ('depth', depth),
            ('window_size', window_size),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by num_heads ({num_heads})')
        bad = [i for i in global_block_indexes if not 0 <= i < depth]
        if bad:
            raise ValueError(f'global_block_indexes must lie in [0, {depth - 1}], got {bad}')
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f'drop_path_rate must lie in [0, 1), got {drop_path_rate!r}')
        self.depth = depth
        self.embed_dims = embed_dims
        self.pretrain_grid = (pretrain_img_size // patch_size,) * 2
        self.num_extra_tokens = int(pretrain_use_cls_token)
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(in_channels, embed_dims, patch_size, stride=patch_size)
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.num_extra_tokens + self.pretrain_grid[0] ** 2, embed_dims)
        )
        input_size = (img_size // patch_size,) * 2
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            Block(
                embed_dims,
                num_heads,
                mlp_ratio,
                qkv_bias,
                rates[i],
                norm_cfg,
                use_rel_pos,
                0 if i in global_block_indexes else window_size,
                input_size,
            )
            for i in range(depth)
        )

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.patch_embed.proj(x).permute(0, 2, 3, 1)  # (B, h, w, C)
        grid = tuple(x.shape[1:3])
        pos = resize_pos_embed(
            self.pos_embed[:, self.num_extra_tokens :],
            self.pretrain_grid,
            grid,
            mode='bicubic',
            num_extra_tokens=0,
        )
        x = x + pos.reshape(1, *grid, self.embed_dims)
        for block in self.blocks:
            x = block(x)
        return (x.permute(0, 3, 1, 2).contiguous(),)

    def init_weights(self) -> None:
        """ViTDet's random initialisation, then the pretrained checkpoint (checked) if configured."""
        trunc_normal_(self.pos_embed, std=0.02)
        self.apply(_init_linear_and_norm)
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            self.load_pretrained(self.init_cfg['checkpoint'])
        elif self.init_cfg is not None:
            raise ValueError(
                f"init_cfg must be dict(type='Pretrained', checkpoint=...) or None, got {self.init_cfg!r}"
            )
        self._is_init = True

    def load_pretrained(self, checkpoint: str) -> None:
        """Load an exported backbone; ValueError if any weight but the position tables is missing."""
        state_dict, report = read_loadable(
            checkpoint,
            self.state_dict(),
            MMDET,
            setting='FAMTPlainViT init_cfg.checkpoint',
            user='the detector',
        )
        self.load_state_dict({k: state_dict[k] for k in report.matched}, strict=False)
        print_log(
            f'{checkpoint}: loaded {len(report.matched)} pretrained tensors; '
            f'{len(report.not_pretrained)} relative position tables start at zero',
            logger='current',
        )

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer-wise lr decay depth: 0 for the embeddings, i + 1 for block i, depth + 1 for the rest.

        Returns ``(layer_depth, depth + 2)``, as mmpretrain's ViTs do.
        """
        num_layers = self.depth + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers
        name = param_name[len(prefix) :]
        if name == 'pos_embed' or name.startswith('patch_embed.'):
            return 0, num_layers
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1, num_layers
        return num_layers - 1, num_layers


def _init_linear_and_norm(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
