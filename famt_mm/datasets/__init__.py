from .cifar import LocalCIFAR10, LocalCIFAR100
from .digits import SklearnDigits
from .stl10 import LocalSTL10
from .tiny_imagenet import LocalTinyImageNet
from .transforms import (
    FAMT_META_KEYS,
    PackFAMTInputs,
    RandomResizedCropAndInterpolationWithTwoPicAndBox,
    RandomResizedCropWithBox,
)

__all__ = [
    'SklearnDigits', 'FAMT_META_KEYS', 'LocalCIFAR10', 'LocalCIFAR100', 'PackFAMTInputs',
    'RandomResizedCropWithBox', 'LocalSTL10', 'LocalTinyImageNet',
    'RandomResizedCropAndInterpolationWithTwoPicAndBox'
]
