# The embedded digits demo with trainable matrix activations (Liu, Cao, Li and Zikatanov, arXiv 2109.09948)
# in the encoder's FFNs in place of GELU: diagonal form, knots at -1, 0 and 1 (fixed), levels shared by the
# channels, trained, starting as ReLU (docs/method.md section 10). Everything else is the demo's.
_base_ = './famt-mae_vit-tiny-p4_1xb64-60e_digits.py'

model = dict(
    backbone=dict(layer_cfgs=dict(act_cfg=dict(type='FAMTMatrixActivation', knots=(-1.0, 0.0, 1.0)))))
