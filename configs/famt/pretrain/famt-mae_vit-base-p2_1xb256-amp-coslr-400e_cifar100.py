# FAMT-MAE: ViT-B on CIFAR-100 (32 px, 2-px patches): everything as
# famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py but the data.
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'LocalCIFAR100'
data_root = 'data/cifar100'  # holds cifar-100-python/
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
