"""The mask-plan contract: how an algorithm declares who takes the preprocessor's plan, and the glue
that the plan-taking models share.

A *plan taker* is the module whose forward receives the :class:`MaskPlan`: the backbone for the ViT
family and Swin (``backbone(x, mask_plan)``), the algorithm itself for CNNs that have no plan-taking
backbone (SparK, A²MIM: ``loss(..., mask_plan)``). A taker declares two separate things:

- ``takes_mask_plan = True``: it reads the plan;
- ``can_throw``: whether thrown patches may leave its computation (False where every grid position must
  stay: Swin's windows, convolutions), with ``throw_refusal`` saying why;

and gives ``plan_patch_size``, the pixels of one plan patch, from which the preprocessor derives its
own. :class:`MaskPlanMixin` checks the declarations of every algorithm when the model is built.
"""

from typing import List, Optional, Tuple, Union

import torch
from mmengine.logging import print_log
from torch import nn

from ...core import MaskPlan, gather_tokens
from .data_preprocessor import FAMTDataPreprocessor
from .mask_generators import FAMTMaskGenerator

#: who takes the plan: the backbone (ViT family, Swin) or the algorithm itself (CNNs)
PLAN_TAKERS = ('backbone', 'model')


class PlanTakingBackbone:
    """Mixin of backbones whose ``forward(x, mask_plan)`` takes the plan; mix in before the stock class.

    The plan patch is the patch embedding's stride (mmpretrain's ``PatchEmbed``: ViT, BEiT, CAE, Swin).
    """

    takes_mask_plan = True
    #: whether thrown patches leave the computation (the ViT family: they leave the token sequence)
    can_throw = True
    #: why a backbone that cannot throw cannot, named in the refusal
    throw_refusal = ''
    #: whether the position table is used as built (not resized), so views must have the built grid
    fixed_grid = False

    @property
    def plan_patch_size(self) -> int:
        stride = self.patch_embed.projection.stride
        if stride[0] != stride[1]:
            raise ValueError(
                f'{type(self).__name__} has a non-square patch stride {tuple(stride)}; '
                'masking plans need square patches'
            )
        return int(stride[0])

    def check_view_grid(self, grid: Tuple[int, int]) -> None:
        """Refuse training views whose patch grid a fixed position table does not cover."""
        built = tuple(self.patch_resolution)
        if self.fixed_grid and tuple(grid) != built:
            patch = self.plan_patch_size
            raise ValueError(
                f'the training views are {grid[0] * patch}x{grid[1] * patch} px ({grid[0]}x'
                f'{grid[1]} patches) but {type(self).__name__} was built for '
                f'{built[0] * patch}x{built[1] * patch} px: set model.backbone.img_size to '
                "the training crop's scale"
            )


class MaskPlanMixin:
    """Routes ``mask_plan`` from ``FAMTDataPreprocessor`` to ``loss``; mix in before the algorithm.

    mmengine calls ``model(**preprocessed, mode='loss')``, so the plan arrives as a keyword. When the
    model is built the mixin checks the contract: the declared taker takes a plan (else the FAMT
    backbone to use is named), the data preprocessor is FAMT's, its patch size is the taker's (derived
    when the config leaves it out), and a mask generator that throws meets a taker that can throw.

    Attributes:
        plan_taker (str): ``'backbone'`` or ``'model'`` (then the algorithm declares
            ``can_throw``, ``throw_refusal`` and ``plan_patch_size`` itself).
        plan_backbones (tuple[str]): the FAMT backbones the algorithm runs on, named in the refusal of
            any other backbone.
    """

    plan_taker: str = 'backbone'
    plan_backbones: Tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = type(self).__name__
        taker = self.plan_taking_module()
        preprocessor = self.data_preprocessor
        if not isinstance(preprocessor, FAMTDataPreprocessor):
            raise TypeError(
                f"{name} needs data_preprocessor=dict(type='FAMTDataPreprocessor', ...) "
                f'(or FAMTTwoNormDataPreprocessor), got {type(preprocessor).__name__}'
            )
        preprocessor.adopt_patch_size(taker.plan_patch_size, type(taker).__name__)
        throw_ratio = preprocessor.mask_generator.throw_ratio
        if throw_ratio > 0 and not taker.can_throw:
            raise ValueError(
                f'{type(taker).__name__} cannot throw ({taker.throw_refusal}): set the mask '
                f"generator's throw_ratio=0, got {throw_ratio}"
            )
        preprocessor.plan_model = name

    def plan_taking_module(self) -> nn.Module:
        """The module that takes the plan, after checking that it declares so."""
        if self.plan_taker not in PLAN_TAKERS:
            raise ValueError(
                f'{type(self).__name__}.plan_taker must be one of {PLAN_TAKERS}, got {self.plan_taker!r}'
            )
        if self.plan_taker == 'model':
            return self
        backbone = self.backbone
        if not getattr(backbone, 'takes_mask_plan', False):
            raise TypeError(
                f'{type(self).__name__} needs a backbone that takes a mask plan '
                f'({" or ".join(self.plan_backbones)}), got {type(backbone).__name__}: '
                f"set backbone=dict(type='{self.plan_backbones[0]}', ...)"
            )
        return backbone

    def forward(
        self,
        inputs: Union[torch.Tensor, List[torch.Tensor]],
        data_samples: Optional[list] = None,
        mode: str = 'tensor',
        mask_plan: Optional[MaskPlan] = None,
    ):
        if mode == 'loss':
            if mask_plan is None:
                raise ValueError(
                    f'{type(self).__name__} needs a mask_plan in loss mode: its '
                    'data_preprocessor must be FAMTDataPreprocessor'
                )
            return self.loss(inputs, data_samples, mask_plan=mask_plan)
        return super().forward(inputs, data_samples, mode)


def check_takes_plans(model: nn.Module) -> None:
    """Refuse a model whose FAMT data preprocessor draws plans that the model does not take.

    A stock algorithm (``MAE``, ``SimMIM``, ...) left in a FAMT config builds, and would then fail at
    its first step on the unexpected ``mask_plan`` argument; this names the FAMT algorithm instead.
    """
    preprocessor = getattr(model, 'data_preprocessor', None)
    if isinstance(preprocessor, FAMTDataPreprocessor) and preprocessor.plan_model is None:
        name = type(model).__name__
        raise TypeError(
            f'{name} takes no mask plan from FAMTDataPreprocessor: use the FAMT algorithm, '
            f"model=dict(type='FAMT{name}', ...) (docs/algorithms.md lists them)"
        )


def check_plain_call(backbone: nn.Module, mask: object, name: str = 'mask') -> None:
    """Refuse a ``mask`` argument on a plan-taking backbone's whole-image call.

    mmpretrain's ``extract_feat`` calls ``backbone(x, mask=None)`` (MILAN's ``importance=None``, named
    by ``name``); any other value would be silently ignored, so it is an error: FAMT backbones take
    their masking as ``mask_plan``.
    """
    if mask is not None and mask is not False:
        raise ValueError(
            f'{type(backbone).__name__} takes its masking as mask_plan=MaskPlan (made by '
            f'FAMTDataPreprocessor); {name} must be None for the whole-image forward, '
            f'got {type(mask).__name__}'
        )


# ------------------------------------------------------------------ token glue of the ViT family
def with_mask_tokens(patches: torch.Tensor, mask_plan: MaskPlan, mask_token: torch.Tensor) -> torch.Tensor:
    """Patch tokens (B, L, D) with ``mask_token`` (1, 1, D) in place of the plan's masked patches,
    as a [MASK]-token encoder (SimMIM, MaskFeat, BEiT) takes them."""
    is_masked = mask_plan.masked_indicator(patches.dtype)[..., None]
    return patches * (1.0 - is_masked) + mask_token.to(patches.dtype) * is_masked


def keep_cls_and(tokens: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """``[CLS, tokens of the kept patches...]`` of tokens (B, 1 + L, D): throwing the others."""
    return torch.cat((tokens[:, :1], gather_tokens(tokens[:, 1:], kept)), dim=1)


def plan_decoder_tokens(
    decoder: nn.Module, x: torch.Tensor, visible_ids: torch.Tensor, masked_ids: torch.Tensor
) -> torch.Tensor:
    """An MAE-style decoder's input over the plan: ``[CLS, visible..., mask tokens...]`` (B, 1 +
    n_visible + n_masked, D), each with its decoder position embedding gathered per sample (no thrown
    position). Serves MAE's and MILAN's decoders.

    Args:
        decoder (nn.Module): An MAE-style decoder (``decoder_embed``, ``decoder_pos_embed``,
            ``mask_token``).
        x (torch.Tensor): The encoder's tokens, CLS and the visible patches (B, 1 + n_visible, C).
        visible_ids (torch.Tensor): The visible patches (B, n_visible), in ``x``'s order.
        masked_ids (torch.Tensor): The masked patches (B, n_masked).
    """
    x = decoder.decoder_embed(x)
    pos_embed = decoder.decoder_pos_embed.expand(x.shape[0], -1, -1)
    patch_pos = pos_embed[:, 1:, :]
    return torch.cat(
        [
            x[:, :1, :] + pos_embed[:, :1, :],
            x[:, 1:, :] + gather_tokens(patch_pos, visible_ids),
            decoder.mask_token + gather_tokens(patch_pos, masked_ids),
        ],
        dim=1,
    )


class GridFromBackbone:
    """Mixin of MAE-style decoders (MAE's, MILAN's): ``num_patches`` and ``patch_size`` follow the
    backbone, so a config need not restate them.

    The algorithm calls :meth:`follow_backbone` when it is built (before ``init_weights``). A value
    the config gives (or inherits: mmpretrain's MAE configs state ``patch_size=16``) that differs from
    the backbone's is replaced by it, and the log says so: a wrong ``num_patches`` would otherwise
    train with the wrong position table, silently, since the plan's positions are gathered, never
    laid out on the full grid.
    """

    #: whether ``decoder_pred`` predicts the pixels of a patch (then its width follows the patch size)
    predicts_pixels = False

    def __init__(
        self,
        *args,
        num_patches: Optional[int] = None,
        patch_size: Optional[int] = None,
        in_chans: int = 3,
        **kwargs,
    ):
        # placeholders until follow_backbone: the stock defaults (ViT-B/16 at 224 px)
        super().__init__(
            *args, num_patches=num_patches or 196, patch_size=patch_size or 16, in_chans=in_chans, **kwargs
        )
        self.patch_size = patch_size or 16
        self.in_chans = in_chans
        self.configured_grid = dict(num_patches=num_patches, patch_size=patch_size)

    def follow_backbone(self, num_patches: int, patch_size: int) -> None:
        """Take the backbone's patch count and patch size."""
        replaced = {
            name: given
            for name, given, value in (
                ('num_patches', self.configured_grid['num_patches'], num_patches),
                ('patch_size', self.configured_grid['patch_size'], patch_size),
            )
            if given not in (None, value)
        }
        if replaced:
            print_log(
                f'FAMT: the decoder follows the backbone, {num_patches} patches of {patch_size} px '
                f'(the config gave {replaced})',
                logger='current',
            )
        if num_patches != self.num_patches:
            self.num_patches = num_patches
            width = self.decoder_pos_embed.shape[-1]
            self.decoder_pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, width), requires_grad=False)
        if patch_size != self.patch_size and self.predicts_pixels:
            self.decoder_pred = nn.Linear(
                self.decoder_pred.in_features, patch_size**2 * self.in_chans, bias=True
            )
        self.patch_size = patch_size


# ------------------------------------------------------------------ BEiT-style backbones (BEiT, CAE)
class NoPerLayerRelPosBias:
    """Mixin of BEiT-style plan-taking backbones: refuses, when built, a layer with its own relative
    position bias table (``use_rel_pos_bias=True``). It covers the whole grid in grid order, which a
    token sequence without the thrown (or masked) patches is not."""

    #: what to use instead, named in the error
    rel_pos_bias_remedy = ''

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if any(layer.attn.relative_position_bias_table is not None for layer in self.layers):
            raise ValueError(
                f'{type(self).__name__} takes use_rel_pos_bias=False: a per-layer '
                f'relative position bias covers the whole grid in grid order; '
                f'{self.rel_pos_bias_remedy}'
            )


def two_pictures(inputs, algorithm: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """The backbone's and the tokenizer's pictures of a batch, with a clear error otherwise."""
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
        raise ValueError(
            f"{algorithm} takes two pictures per image (the backbone's and the "
            "tokenizer's): pack them with "
            'FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox and normalise them with '
            'FAMTTwoNormDataPreprocessor'
        )
    return inputs[0], inputs[1]


def check_token_count(num_tokens: int, num_patches: int) -> None:
    """Refuse a tokenizer whose token grid is not the backbone's patch grid."""
    if num_tokens != num_patches:
        raise ValueError(
            f'the tokenizer gives {num_tokens} tokens per image but the plan covers '
            f'{num_patches} patches: the second picture (second_size of the two-picture '
            "crop) must give the tokenizer the backbone's patch grid (VQKD: the same "
            'size and patch size; DALL-E: 8 px per patch)'
        )


# ------------------------------------------------------------------ CNNs (SparK, A²MIM)
class CNNPlanTaker(MaskPlanMixin):
    """:class:`MaskPlanMixin` for CNN algorithms without a plan-taking backbone (SparK, A²MIM): the
    algorithm takes the plan itself, throws nothing (a thrown unit would save no convolution) and, having
    no attention, is scored by FAMT's frequency factor alone (or masks at random). Subclasses give
    ``plan_patch_size``, their output stride."""

    plan_taker = 'model'
    takes_mask_plan = True
    can_throw = False
    throw_refusal = 'convolutions need every position of the grid, so a thrown unit saves nothing'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        generator = self.data_preprocessor.mask_generator
        if generator.needs_importance and not (
            isinstance(generator, FAMTMaskGenerator) and generator.weight_source == 'frequency'
        ):
            raise ValueError(
                f'{type(self).__name__} scores a CNN, which has no attention: use '
                "mask_generator=dict(type='FAMTMaskGenerator', weight_source='frequency', ...) "
                f"or dict(type='FAMTRandomMaskGenerator', ...), got {generator!r}"
            )
