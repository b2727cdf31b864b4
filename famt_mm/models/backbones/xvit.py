"""X-ViT backbones (Song and Lee, arXiv 2205.13805): mmpretrain's ``VisionTransformer`` for image
classification, and famt_mm's ``FAMTMAEViT`` as the FAMT-MAE encoder, with
:class:`~famt_mm.models.layers.FAMTXNormAttention` in every block.

Everything else (patch embedding, position embedding, CLS token, blocks' norms and FFNs, the plan
forward that drops thrown patches from the sequence) is the stock class's, so an X-ViT checkpoint has
a ViT's keys plus each block's ``attn.xnorm_scale``.
"""

from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS

from ...core import SIGNED_ROWS, check_choice
from ..layers import FAMTXNormAttention
from ..selfsup.mae import FAMTMAEViT


class XNormBlocksMixin:
    """Puts :class:`FAMTXNormAttention` in place of every block's attention; mix in before a ViT class.

    Args:
        norm_axis (str): see :class:`FAMTXNormAttention`. Defaults to ``'head_channels'``.
        scale_mode (str): see :class:`FAMTXNormAttention`. Defaults to ``'per_head'``.
        scale_init (float): see :class:`FAMTXNormAttention`. Defaults to 1.
        key_reduction (str): see :class:`FAMTXNormAttention`. Defaults to ``'mean'``.
        score_attention (str): how FAMT's and AMT's weights read the last block's signed attention,
            one of :data:`famt_mm.core.SIGNED_ROWS` (:func:`famt_mm.core.signed_attention_rows`).
            Defaults to ``'clip'``.
        *args, **kwargs: the ViT class's own arguments.
    """

    def __init__(
        self,
        *args,
        norm_axis: str = 'head_channels',
        scale_mode: str = 'per_head',
        scale_init: float = 1.0,
        key_reduction: str = 'mean',
        score_attention: str = 'clip',
        **kwargs,
    ):
        check_choice('score_attention', score_attention, SIGNED_ROWS)
        super().__init__(*args, **kwargs)
        for layer in self.layers:
            layer.attn = FAMTXNormAttention.replacing(
                layer.attn,
                norm_axis=norm_axis,
                scale_mode=scale_mode,
                scale_init=scale_init,
                key_reduction=key_reduction,
            )
        if self.frozen_stages > 0:  # the stock class froze the attention modules just replaced
            self._freeze_stages()
        self.score_attention = score_attention


@MODELS.register_module()
class FAMTXViT(XNormBlocksMixin, VisionTransformer):
    """X-ViT: mmpretrain's ``VisionTransformer`` with softmax-free, linear-cost attention.

    Takes every argument of ``VisionTransformer`` (``arch``, ``img_size``, ``patch_size``, ``out_type``,
    ``layer_cfgs``, ...) and those of :class:`XNormBlocksMixin`. Use it as the backbone of
    mmpretrain's ``ImageClassifier``; a FAMT-MAE X-ViT checkpoint loads into it key for key.
    """


@MODELS.register_module()
class FAMTMAEXViT(XNormBlocksMixin, FAMTMAEViT):
    """The FAMT-MAE encoder with X-ViT attention: :class:`~famt_mm.models.FAMTMAEViT`'s plan forward
    (CLS + the plan's visible patches; thrown patches leave the sequence, and with attention linear
    in the tokens each one left out saves its share of every block) and whole-image forward.

    Takes every argument of ``FAMTMAEViT`` and those of :class:`XNormBlocksMixin`. The refresh hook
    scores with the last block's attention made explicit (``score_attention``).
    """
