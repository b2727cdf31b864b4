from ..checkpoint import CheckPretrainedKeys  # registered there; kept importable from here
from .data_preprocessor import FAMTDataPreprocessor
from .mae import FAMTMAE, FAMTMAEPretrainDecoder, FAMTMAEViT
from .mask_generators import AMTMaskGenerator, BaseMaskGenerator, FAMTMaskGenerator, RandomMaskGenerator
from .planned import MaskPlanMixin
from .scoring import last_block_attention, score_images, swin_last_block_attention
from .simmim import FAMTSimMIM, FAMTSimMIMLinearDecoder, FAMTSimMIMViT, patchify_chw

__all__ = [
    'FAMTDataPreprocessor', 'FAMTMAE', 'FAMTMAEPretrainDecoder', 'FAMTMAEViT', 'AMTMaskGenerator',
    'BaseMaskGenerator', 'CheckPretrainedKeys', 'FAMTMaskGenerator', 'RandomMaskGenerator',
    'MaskPlanMixin', 'last_block_attention', 'score_images', 'swin_last_block_attention',
    'FAMTSimMIM', 'FAMTSimMIMLinearDecoder', 'FAMTSimMIMViT', 'patchify_chw'
]
