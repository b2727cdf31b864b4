"""The algorithms that take FAMT's mask plan, one per file, each a small override of mmpretrain's own
(A²MIM, which mmpretrain lacks, is famt_mm's)."""

from .a2mim import A2MIM, FAMTA2MIM
from .a2mim_modules import FAMTA2MIMHead, FAMTA2MIMLinearDecoder, FAMTA2MIMResNet, focal_frequency_loss
from .beit import FAMTBEiT, FAMTBEiTPretrainViT
from .cae import FAMTCAE, FAMTCAEPretrainViT
from .mae import FAMTMAE, FAMTMAEPretrainDecoder, FAMTMAEViT
from .maskfeat import FAMTMaskFeat, FAMTMaskFeatViT
from .mff import FAMTMFF, FAMTMFFViT
from .milan import FAMTMILAN, FAMTMILANPretrainDecoder, FAMTMILANViT
from .simmim import FAMTSimMIM, FAMTSimMIMLinearDecoder, FAMTSimMIMSwin, FAMTSimMIMViT, patchify_chw
from .spark import FAMTSparK

__all__ = [
    'A2MIM',
    'FAMTA2MIM',
    'FAMTA2MIMHead',
    'FAMTA2MIMLinearDecoder',
    'FAMTA2MIMResNet',
    'focal_frequency_loss',
    'FAMTBEiT',
    'FAMTBEiTPretrainViT',
    'FAMTCAE',
    'FAMTCAEPretrainViT',
    'FAMTMAE',
    'FAMTMAEPretrainDecoder',
    'FAMTMAEViT',
    'FAMTMaskFeat',
    'FAMTMaskFeatViT',
    'FAMTMFF',
    'FAMTMFFViT',
    'FAMTMILAN',
    'FAMTMILANPretrainDecoder',
    'FAMTMILANViT',
    'FAMTSimMIM',
    'FAMTSimMIMLinearDecoder',
    'FAMTSimMIMSwin',
    'FAMTSimMIMViT',
    'patchify_chw',
    'FAMTSparK',
]
