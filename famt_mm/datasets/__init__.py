from .cifar import LocalCIFAR10, LocalCIFAR100
from .cluttered import CLUTTER_LEVELS, FAMTClutteredDigits
from .digits import SklearnDigits
from .stl10 import LocalSTL10
from .tiny_imagenet import LocalTinyImageNet
from .transforms import (
    FAMT_META_KEYS,
    FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox,
    FAMTRandomResizedCropWithBox,
    PackFAMTInputs,
)

__all__ = [
    'CLUTTER_LEVELS',
    'FAMTClutteredDigits',
    'SklearnDigits',
    'FAMT_META_KEYS',
    'LocalCIFAR10',
    'LocalCIFAR100',
    'PackFAMTInputs',
    'FAMTRandomResizedCropWithBox',
    'LocalSTL10',
    'LocalTinyImageNet',
    'FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox',
]
