from ..checkpoint import CheckPretrainedKeys  # registered there; kept importable from here
from .a2mim import A2MIM, FAMTA2MIM
from .a2mim_modules import A2MIMHead, A2MIMLinearDecoder, A2MIMResNet, focal_frequency_loss
from .beit import FAMTBEiT, FAMTBEiTPretrainViT
from .cae import FAMTCAE, FAMTCAEPretrainViT
from .data_preprocessor import FAMTDataPreprocessor
from .importance_cache import ImportanceCache
from .mae import FAMTMAE, FAMTMAEPretrainDecoder, FAMTMAEViT
from .mask_generators import AMTMaskGenerator, BaseMaskGenerator, FAMTMaskGenerator, RandomMaskGenerator
from .maskfeat import FAMTMaskFeat, FAMTMaskFeatViT
from .mff import FAMTMFF, FAMTMFFViT
from .milan import FAMTMILAN, FAMTMILANPretrainDecoder, FAMTMILANViT
from .planned import MaskPlanMixin, check_plain_call
from .scoring import (
    beit_last_block_attention,
    cnn_last_stage_tokens,
    last_block_attention,
    score_images,
    swin_last_block_attention,
)
from .simmim import FAMTSimMIM, FAMTSimMIMLinearDecoder, FAMTSimMIMSwin, FAMTSimMIMViT, patchify_chw
from .spark import FAMTSparK
from .two_norm import FAMTTwoNormDataPreprocessor

__all__ = [
    'FAMTDataPreprocessor', 'FAMTMAE', 'FAMTMAEPretrainDecoder', 'FAMTMAEViT', 'AMTMaskGenerator',
    'BaseMaskGenerator', 'CheckPretrainedKeys', 'FAMTMaskGenerator', 'RandomMaskGenerator',
    'ImportanceCache', 'MaskPlanMixin', 'check_plain_call', 'last_block_attention', 'score_images',
    'swin_last_block_attention', 'FAMTSimMIM', 'FAMTSimMIMLinearDecoder', 'FAMTSimMIMSwin',
    'FAMTSimMIMViT', 'patchify_chw', 'FAMTMFF', 'FAMTMFFViT',
    'FAMTMaskFeat', 'FAMTMaskFeatViT', 'FAMTSparK', 'cnn_last_stage_tokens',
    'FAMTBEiT', 'FAMTBEiTPretrainViT', 'FAMTCAE', 'FAMTCAEPretrainViT', 'FAMTTwoNormDataPreprocessor',
    'beit_last_block_attention',
    'A2MIM', 'FAMTA2MIM', 'A2MIMHead', 'A2MIMLinearDecoder', 'A2MIMResNet', 'focal_frequency_loss',
    'FAMTMILAN', 'FAMTMILANPretrainDecoder', 'FAMTMILANViT'
]
