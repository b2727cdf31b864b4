"""Downstream configs: the published recipes, full-size builds, layer decay, and one training step plus
one inference of Mask R-CNN and UperNet on synthetic COCO / ADE20K samples (CPU, tiny ViT)."""

import math
import subprocess
import sys

import pytest
import torch
from downstream_utils import require_mmdet_and_mmseg

require_mmdet_and_mmseg()  # before the imports below, which need them

from downstream_utils import (
    DET_CONFIG,
    DET_SHORT_CONFIG,
    ROOT,
    SEG_CONFIG,
    TINY,
    build_mmpretrain,
    cpu_runtime,
    keep_default_scope,  # noqa: F401  (autouse fixture)
    last_line_printed_by,
    set_dataloaders,
    tiny_det_cfg,
    tiny_seg_cfg,
    tiny_vit_checkpoint,
    write_ade,
    write_coco,
)
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from famt_mm.checkpoint import MMDET, MMSEG, key_coverage, vit_backbone_state
from famt_mm.downstream.export import build_target_backbone, export_backbone, load_config

pytestmark = pytest.mark.slow


def test_the_detection_configs_state_vitdets_recipe():
    cfg = Config.fromfile(DET_CONFIG)
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports.imports == ['famt_mm.downstream.det']
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.embed_dims, backbone.depth, backbone.num_heads) == (
        'FAMTPlainViT',
        768,
        12,
        12,
    )
    assert (backbone.window_size, tuple(backbone.global_block_indexes), backbone.use_rel_pos) == (
        14,
        (2, 5, 8, 11),
        True,
    )
    assert (backbone.drop_path_rate, backbone.img_size, backbone.pretrain_img_size) == (0.1, 1024, 224)
    assert backbone.init_cfg.type == 'Pretrained'
    assert backbone.init_cfg.checkpoint.startswith('work_dirs/exports/')  # the export tool's output
    assert cfg.model.neck.type == 'FAMTSimpleFeaturePyramid'
    assert cfg.model.roi_head.bbox_head.norm_cfg.type == 'LN2d'
    lsj = {t.type: t for t in cfg.train_dataloader.dataset.dataset.pipeline}
    assert lsj['RandomResize'].scale == (1024, 1024) and lsj['RandomResize'].ratio_range == (0.1, 2.0)
    assert lsj['RandomCrop'].crop_size == (1024, 1024)
    assert cfg.model.data_preprocessor.pad_size_divisor == 1024  # all inputs 1024 x 1024
    assert 'Pad' not in {t.type for t in cfg.test_dataloader.dataset.pipeline}
    assert cfg.train_dataloader.dataset.times * cfg.train_cfg.max_epochs == 100
    assert [s.milestones for s in cfg.param_scheduler if s.type == 'MultiStepLR'] == [[22, 24]]
    optim = cfg.optim_wrapper
    assert (optim.type, optim.constructor, optim.paramwise_cfg.layer_decay_rate) == (
        'AmpOptimWrapper',
        'FAMTViTLayerDecayOptimWrapperConstructor',
        0.7,
    )
    assert (optim.optimizer.type, optim.optimizer.lr, optim.optimizer.weight_decay) == ('AdamW', 1e-4, 0.1)
    short = Config.fromfile(DET_SHORT_CONFIG)
    assert short.train_dataloader.dataset.times * short.train_cfg.max_epochs == 25
    assert short.model == cfg.model and short.optim_wrapper == cfg.optim_wrapper


def test_the_segmentation_config_states_maes_upernet_recipe():
    cfg = Config.fromfile(SEG_CONFIG)
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports.imports == ['famt_mm.downstream.seg']
    assert cfg.model.pretrained is None and cfg.fp16 is None
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.init_values, backbone.img_size, backbone.drop_path_rate) == (
        'FAMTCheckedMAE',
        1.0,
        (512, 512),
        0.1,
    )
    assert backbone.init_cfg.type == 'Pretrained'
    assert backbone.init_cfg.checkpoint.startswith('work_dirs/exports/')  # the export tool's output
    assert cfg.model.decode_head.type == 'UPerHead' and cfg.model.decode_head.num_classes == 150
    optim = cfg.optim_wrapper
    assert (optim.type, optim.constructor, optim.paramwise_cfg.layer_decay_rate) == (
        'AmpOptimWrapper',
        'LayerDecayOptimizerConstructor',
        0.65,
    )
    assert cfg.train_cfg.max_iters == 160000
    crop = next(t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'RandomCrop')
    assert crop.crop_size == (512, 512)


def test_full_size_configs_take_a_vit_b_pretraining_backbone():
    """Every weight of the ViT-B targets (1024-px detector, 512-px segmentor): pretrained or neutral."""
    encoder = build_mmpretrain(dict(type='FAMTMAEViT', arch='b', img_size=224, patch_size=16))
    backbone, _ = vit_backbone_state({f'backbone.{k}': v for k, v in encoder.state_dict().items()})
    for path, spec, not_pretrained in ((DET_CONFIG, MMDET, 24), (SEG_CONFIG, MMSEG, 48)):
        target = build_target_backbone(load_config(path))
        report = key_coverage(backbone, target.state_dict(), spec.renames, spec.rules, spec.name)
        assert report.ok, report.summary()
        assert len(report.matched) + len(report.resized) == 3 + 12 * 12 + (spec is MMSEG)
        assert len(report.not_pretrained) == not_pretrained
    assert report.resized == ['pos_embed']  # mmseg: 14 x 14 -> 32 x 32 at load


def _param_groups(cfg, model):
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    named = {id(p): n for n, p in model.named_parameters()}
    return {named[id(p)]: g for g in wrapper.optimizer.param_groups for p in g['params']}


def test_layer_decay_follows_depth_in_both_models():
    det = tiny_det_cfg(None)
    det.optim_wrapper.type = 'OptimWrapper'
    with DefaultScope.overwrite_default_scope('mmdet'):
        from mmdet.registry import MODELS

        detector = MODELS.build(det.model)
    groups = _param_groups(det, detector)
    base, depth = 1e-4, TINY['num_layers']
    for i in range(depth):
        lr = groups[f'backbone.blocks.{i}.attn.qkv.weight']['lr']
        assert math.isclose(lr, base * 0.7 ** (depth - i))
    assert math.isclose(groups['backbone.patch_embed.proj.weight']['lr'], base * 0.7 ** (depth + 1))
    assert math.isclose(groups['roi_head.bbox_head.fc_cls.weight']['lr'], base)
    assert groups['backbone.blocks.0.attn.qkv.weight']['weight_decay'] == 0.1
    for name in (
        'backbone.pos_embed',
        'backbone.blocks.0.attn.rel_pos_h',
        'backbone.blocks.0.norm1.weight',
        'backbone.blocks.0.mlp.fc1.bias',
        'neck.lateral_convs.0.ln.weight',
    ):
        assert groups[name]['weight_decay'] == 0, name

    seg = tiny_seg_cfg(None)
    seg.optim_wrapper.type = 'OptimWrapper'
    seg.optim_wrapper.pop('loss_scale')
    with DefaultScope.overwrite_default_scope('mmseg'):
        from mmseg.registry import MODELS

        segmentor = MODELS.build(seg.model)
    groups = _param_groups(seg, segmentor)
    for i in range(depth):  # mmseg's constructor recognises FAMTCheckedMAE as an MAE
        lr = groups[f'backbone.layers.{i}.attn.qkv.weight']['lr']
        assert math.isclose(lr, base * 0.65 ** (depth - i))
    assert math.isclose(groups['decode_head.conv_seg.weight']['lr'], base)


class _Snapshot(Hook):
    """The backbone as the Runner initialised it, before the first step."""

    def before_train(self, runner):  # after the weights are initialised (before_run is before)
        self.state = {k: v.clone() for k, v in runner.model.backbone.state_dict().items()}


def _train_one_step_and_infer(cfg):
    runner = Runner.from_cfg(cfg)
    snapshot = _Snapshot()
    runner.register_hook(snapshot, priority='LOWEST')
    runner.train()
    losses = {k: v.current() for k, v in runner.message_hub.log_scalars.items() if k.startswith('train/loss')}
    batch = next(iter(runner.test_dataloader))
    runner.model.eval()
    with torch.no_grad():
        predictions = runner.model.test_step(batch)
    return runner, snapshot.state, losses, predictions


def _assert_loaded_then_trained(initial, trained, exported):
    for key, value in exported.items():
        assert torch.equal(initial[key], value), key  # what the Runner loaded is the exported file
    assert any(not torch.equal(initial[k], trained[k]) for k in exported)  # and the step changed it


@pytest.fixture(scope='module')
def famt_checkpoint(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('famt') / 'famt_mae.pth')
    tiny_vit_checkpoint(path)
    return path


def test_mask_rcnn_trains_a_step_and_infers_from_an_exported_famt_checkpoint(famt_checkpoint, tmp_path):
    pretrained = export_backbone(famt_checkpoint, tiny_det_cfg(None), str(tmp_path / 'det.pth')).out
    cfg = tiny_det_cfg(pretrained)
    data = write_coco(str(tmp_path / 'coco'))
    set_dataloaders(cfg, data, batch_size=2)  # 2 images: one step per epoch
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_evaluator.ann_file = f'{data["data_root"]}/{data["ann_file"]}'
    cfg.model.test_cfg.rcnn.score_thr = 0.0  # an untrained head: keep its detections
    cfg.train_cfg.max_epochs = 1
    cpu_runtime(cfg, str(tmp_path / 'work'))
    runner, initial, losses, predictions = _train_one_step_and_infer(cfg)

    assert runner.iter == 1
    assert {'train/loss_rpn_cls', 'train/loss_cls', 'train/loss_bbox', 'train/loss_mask'} <= set(losses)
    assert all(math.isfinite(v) for v in losses.values()), losses
    exported = torch.load(pretrained, weights_only=True)['model']
    _assert_loaded_then_trained(initial, runner.model.backbone.state_dict(), exported)
    instances = predictions[0].pred_instances
    height, width = predictions[0].ori_shape
    assert len(instances) > 0
    assert instances.masks.shape == (len(instances), height, width)
    assert instances.bboxes.shape == (len(instances), 4)
    assert (instances.bboxes[:, 2:] <= torch.tensor([width, height]) + 1e-3).all()


def test_upernet_trains_a_step_and_infers_from_an_exported_famt_checkpoint(famt_checkpoint, tmp_path):
    pretrained = export_backbone(famt_checkpoint, tiny_seg_cfg(None), str(tmp_path / 'seg.pth')).out
    cfg = tiny_seg_cfg(pretrained)
    set_dataloaders(cfg, write_ade(str(tmp_path / 'ade')), batch_size=2)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_cfg.max_iters = 1
    cpu_runtime(cfg, str(tmp_path / 'work'))
    runner, initial, losses, predictions = _train_one_step_and_infer(cfg)

    assert runner.iter == 1
    assert {'train/decode.loss_ce', 'train/aux.loss_ce'} <= {k for k in runner.message_hub.log_scalars}
    assert math.isfinite(losses['train/loss'])
    exported = torch.load(pretrained, weights_only=True)['state_dict']
    _assert_loaded_then_trained(initial, runner.model.backbone.state_dict(), exported)
    sample = predictions[0]
    assert sample.pred_sem_seg.data.shape == (1, *sample.ori_shape)
    assert int(sample.pred_sem_seg.data.max()) < 150


def test_importing_famt_mm_leaves_the_downstream_models_unimported():
    """mmseg.models and the downstream modules load only through the downstream configs. (mmdet.models
    is another matter: mmpretrain.models imports it by itself whenever mmdet is installed.)"""
    code = (
        'import sys, famt_mm, famt_mm.checkpoint; print([m for m in ("mmseg.models", '
        '"famt_mm.downstream.det", "famt_mm.downstream.seg", "famt_mm.downstream.export") '
        'if m in sys.modules])'
    )
    assert last_line_printed_by(code) == '[]'


def test_tools_hand_each_config_to_its_packages_tools():
    from famt_mm.utils.mim_tools import package_for_config

    assert package_for_config(['train.py', DET_CONFIG]) == 'mmdet'
    assert package_for_config(['train.py', SEG_CONFIG]) == 'mmseg'
    assert package_for_config(['train.py', f'{ROOT}/configs/famt/mae_vitb_in1k.py']) == 'mmpretrain'
    assert package_for_config(['train.py', '--help']) == 'mmpretrain'


def test_tools_train_runs_the_detection_config_through_mmdets_train_tool(famt_checkpoint, tmp_path):
    pretrained = export_backbone(famt_checkpoint, tiny_det_cfg(None), str(tmp_path / 'det.pth')).out
    cfg = tiny_det_cfg(pretrained)
    data = write_coco(str(tmp_path / 'coco'))
    set_dataloaders(cfg, data, batch_size=2)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_evaluator.ann_file = f'{data["data_root"]}/{data["ann_file"]}'
    cfg.train_cfg.max_epochs = 1
    cpu_runtime(cfg, str(tmp_path / 'work'))
    config = str(tmp_path / 'tiny_det.py')
    cfg.dump(config)
    run = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir', str(tmp_path / 'work')],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    saved = torch.load(str(tmp_path / 'work' / 'epoch_1.pth'), map_location='cpu', weights_only=True)
    assert saved['meta']['dataset_meta']['classes'][0] == 'person'  # mmdet's CocoDataset
    assert 'backbone.blocks.3.mlp.fc2.weight' in saved['state_dict']
