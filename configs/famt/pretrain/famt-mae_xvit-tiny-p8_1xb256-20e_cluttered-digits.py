# The cluttered-digits benchmark with an X-ViT encoder (softmax-free attention, Song and Lee, arXiv
# 2205.13805): the benchmark's 4-block tiny ViT with XNorm attention, everything else the benchmark's.
# The refresh hook scores with the last block's attention made explicit (score_attention, docs/method.md
# section 9), so the object capture reads how that choice lands on the digit.
_base_ = './famt-mae_vit-tiny-p8_1xb256-20e_cluttered-digits.py'

model = dict(backbone=dict(type='FAMTMAEXViT'))
