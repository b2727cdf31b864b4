# The FAMT pieces that fit any mmpretrain pretraining config. List it beside your own base:
#   _base_ = ['mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py', 'famt_mm::famt/_base_/famt.py']
# It defines only keys that mmpretrain's pretraining configs leave out (mmengine refuses a key that two
# bases both define); the model, preprocessor and crop are yours to set (configs/famt/examples/).
custom_imports = dict(imports=['famt_mm'], allow_failed_imports=False)
# mmengine's Runner, plus: inherited dataloaders work as they are, a stock algorithm left in a FAMT
# config is refused when built, optimizers run fused where torch can (famt_mm/engine/runner.py)
runner_type = 'FAMTRunner'
# importance refresh after 10 % of the schedule and every 10 % after (40 and 40 of 400 epochs, as the
# published runs); the scoring pipeline is derived from the training pipeline
custom_hooks = [dict(type='FAMTRefreshHook', start_epoch=0.1, interval=0.1)]
