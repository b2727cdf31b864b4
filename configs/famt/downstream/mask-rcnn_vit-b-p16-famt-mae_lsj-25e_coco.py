# The short schedule: the 100-epoch recipe with the training set seen once per epoch, i.e. 25 epochs
# of COCO with lr steps at epochs 22 and 24 (a quarter of the compute, for quick comparisons).
_base_ = './mask-rcnn_vit-b-p16-famt-mae_lsj-100e_coco.py'

# ---- knobs ----------------------------------------------------------------------------------------
repeat_times = 1  # 25 epochs x 1
# ---------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
train_dataloader = dict(dataset=dict(times=repeat_times))
