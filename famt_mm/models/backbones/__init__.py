"""Backbones that famt_mm adds to mmpretrain's: X-ViT, for classification and as FAMT-MAE's encoder."""

from .xvit import FAMTMAEXViT, FAMTXViT, XNormBlocksMixin

__all__ = ['FAMTMAEXViT', 'XNormBlocksMixin', 'FAMTXViT']
