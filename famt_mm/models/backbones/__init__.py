"""Backbones that famt_mm adds to mmpretrain's: X-ViT, for classification and as FAMT-MAE's encoder."""
from .xvit import FAMTMAEXViT, XNormBlocksMixin, XViT

__all__ = ['FAMTMAEXViT', 'XNormBlocksMixin', 'XViT']
