from .cifar import LocalCIFAR10, LocalCIFAR100
from .cluttered import CLUTTER_LEVELS, ClutteredDigits
from .digits import DigitsDataset
from .stl10 import STL10
from .tiny_imagenet import TinyImageNet
from .transforms import (
    FAMT_META_KEYS,
    PackFAMTInputs,
    RandomResizedCropAndInterpolationWithTwoPicAndBox,
    RandomResizedCropWithBox,
)

__all__ = [
    'CLUTTER_LEVELS', 'ClutteredDigits', 'DigitsDataset', 'FAMT_META_KEYS', 'LocalCIFAR10',
    'LocalCIFAR100', 'PackFAMTInputs',
    'RandomResizedCropWithBox', 'STL10', 'TinyImageNet',
    'RandomResizedCropAndInterpolationWithTwoPicAndBox'
]
