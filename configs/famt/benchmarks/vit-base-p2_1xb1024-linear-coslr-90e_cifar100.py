# Linear probe on CIFAR-100 of a checkpoint from ../pretrain/*_cifar100.py: as
# vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py but the data.
_base_ = './vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py'

# ---- knobs ---------------------------------------------------------------------------------------
dataset_type = 'LocalCIFAR100'
data_root = 'data/cifar100'  # holds cifar-100-python/
num_classes = 100
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
data_preprocessor = dict(num_classes=num_classes)
model = dict(head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
