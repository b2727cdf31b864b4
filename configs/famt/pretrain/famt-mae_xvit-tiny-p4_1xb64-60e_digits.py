# The embedded digits demo with an X-ViT encoder: the demo's tiny ViT (6 blocks, 96 dims, 4 heads) with
# softmax-free attention (Song and Lee, arXiv 2205.13805), everything else the demo's. The refresh hook
# scores with the last block's attention made explicit (score_attention, docs/method.md section 9).
_base_ = './famt-mae_vit-tiny-p4_1xb64-60e_digits.py'

model = dict(backbone=dict(type='FAMTMAEXViT'))
