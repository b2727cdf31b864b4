from .digits import DigitsDataset
from .transforms import FAMT_META_KEYS, PackFAMTInputs, RandomResizedCropWithBox

__all__ = ['DigitsDataset', 'FAMT_META_KEYS', 'PackFAMTInputs', 'RandomResizedCropWithBox']
