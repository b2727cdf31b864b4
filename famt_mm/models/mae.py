"""FAMT-MAE: small overrides of mmpretrain's MAEViT, MAEPretrainDecoder and MAE.

The encoder sees only the visible patches (+ CLS); the decoder sees CLS + visible tokens + mask tokens
at the masked positions only (thrown positions are never created); the loss covers masked patches only.
With ``throw_ratio=0`` and the same index sets this is stock MAE.
"""
from typing import Dict, List, Optional

import torch
from mmpretrain.models import MAE, MAEPretrainDecoder, MAEViT
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..core import MaskPlan, gather_tokens
from .planned import MaskPlanMixin, check_plain_call


@MODELS.register_module()
class FAMTMAEViT(MAEViT):
    """MAEViT whose masking comes from a :class:`MaskPlan` instead of its own random draw.

    ``forward(x, mask_plan)`` encodes CLS + the plan's visible patches only; ``forward(x)`` (or
    ``forward(x, mask=None)``, the call of MAE's ``extract_feat``) is the plain ViT on whole images,
    for feature extraction and importance scoring. MAEViT's ``mask_ratio`` argument is accepted but
    unused: the counts come from the preprocessor's mask generator.
    """

    def forward(self, x: torch.Tensor, mask_plan: Optional[MaskPlan] = None,
                mask: Optional[bool] = None):
        if mask_plan is None:
            check_plain_call(self, mask)
            return super().forward(x, mask=None)
        x = self.patch_embed(x)[0] + self.pos_embed[:, 1:, :]
        x = gather_tokens(x, mask_plan.visible)
        cls_token = (self.cls_token + self.pos_embed[:, :1, :]).expand(x.shape[0], -1, -1)
        x = torch.cat((cls_token, x), dim=1)
        for layer in self.layers:
            x = layer(x)
        return self.norm1(x)


def plan_decoder_tokens(decoder: MAEPretrainDecoder, x: torch.Tensor, visible_ids: torch.Tensor,
                        masked_ids: torch.Tensor) -> torch.Tensor:
    """The decoder's input over the plan: ``[CLS, visible..., mask tokens...]`` (B, 1 + n_visible +
    n_masked, D), each with its decoder position embedding gathered per sample (no thrown position).

    Args:
        decoder (MAEPretrainDecoder): An MAE-style decoder (``decoder_embed``, ``decoder_pos_embed``,
            ``mask_token``).
        x (torch.Tensor): The encoder's tokens, CLS and the visible patches (B, 1 + n_visible, C).
        visible_ids (torch.Tensor): The visible patches (B, n_visible), in ``x``'s order.
        masked_ids (torch.Tensor): The masked patches (B, n_masked).
    """
    x = decoder.decoder_embed(x)
    pos_embed = decoder.decoder_pos_embed.expand(x.shape[0], -1, -1)
    patch_pos = pos_embed[:, 1:, :]
    return torch.cat([
        x[:, :1, :] + pos_embed[:, :1, :],
        x[:, 1:, :] + gather_tokens(patch_pos, visible_ids),
        decoder.mask_token + gather_tokens(patch_pos, masked_ids),
    ], dim=1)


@MODELS.register_module()
class FAMTMAEPretrainDecoder(MAEPretrainDecoder):
    """MAE decoder over CLS + visible tokens + mask tokens at the masked positions only.

    Position embeddings are gathered per sample, so thrown positions cost nothing. Returns the pixel
    predictions of the masked patches (B, n_masked, patch_size**2 * in_chans), in ``masked_ids`` order.
    """

    def forward(self, x: torch.Tensor, visible_ids: torch.Tensor,
                masked_ids: torch.Tensor) -> torch.Tensor:
        x = plan_decoder_tokens(self, x, visible_ids, masked_ids)
        for block in self.decoder_blocks:
            x = block(x)
        x = self.decoder_norm(x[:, -masked_ids.shape[1]:, :])
        return self.decoder_pred(x)


@MODELS.register_module()
class FAMTMAE(MaskPlanMixin, MAE):
    """MAE trained on the preprocessor's mask plan: masked and thrown patches as FAMT defines them.

    Use with ``FAMTMAEViT``, ``FAMTMAEPretrainDecoder``, mmpretrain's ``MAEPretrainHead`` and
    ``FAMTDataPreprocessor``; the refresh hook scores images with the backbone's last block.
    """

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             mask_plan: MaskPlan) -> Dict[str, torch.Tensor]:
        latent = self.backbone(inputs, mask_plan)
        pred = self.neck(latent, mask_plan.visible, mask_plan.masked)
        target = gather_tokens(self.head.construct_target(inputs), mask_plan.masked)
        loss = self.head.loss_module(pred, target, pred.new_ones(pred.shape[:2]))
        return dict(loss=loss)
