# The A²MIM baseline: random masking of 60 % of the 32-px units (A²MIM's own masking: SimMIM's generator
# draws the same uniform subsets), nothing thrown, no refresh; everything else as
# famt-a2mim_resnet50_8xb256-amp-coslr-300e_in1k.py, so that only the masking differs.
_base_ = './famt-a2mim_resnet50_8xb256-amp-coslr-300e_in1k.py'

data_preprocessor = dict(mask_generator=dict(_delete_=True, type='FAMTRandomMaskGenerator', mask_ratio=0.6,
                                             count_rounding='ceil_each'))
