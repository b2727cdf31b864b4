# Fine-tuning on CIFAR-100 of a SimMIM (plain ViT) pretraining checkpoint: as
# vit-base-p2_1xb256-coslr-100e_cifar100.py with SimMIM's layer-wise lr decay. The checkpoint's extra mask_token is
# logged as unused.
_base_ = './vit-base-p2_1xb256-coslr-100e_cifar100.py'

# ---- knobs ---------------------------------------------------------------------------------------
layer_decay_rate = 0.65  # SimMIM
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=layer_decay_rate))
