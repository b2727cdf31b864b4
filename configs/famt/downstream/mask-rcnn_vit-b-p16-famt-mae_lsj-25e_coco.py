# The short schedule: the 100-epoch recipe with the training set seen once per epoch, i.e. 25 epochs
# of COCO with lr steps at epochs 22 and 24 (a quarter of the compute, for quick comparisons).
_base_ = './mask-rcnn_vit-b-p16-famt-mae_lsj-100e_coco.py'

train_dataloader = dict(dataset=dict(times=1))
