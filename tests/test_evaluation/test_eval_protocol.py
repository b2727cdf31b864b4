"""A tiny FAMT-MAE pretraining checkpoint goes through the evaluation protocol: it loads into the
probe and fine-tune models with every backbone key matched, wrong checkpoints fail loudly, and
tools/evaluate.py probes, fine-tunes and writes the results-table row."""

import json
import os
import os.path as osp

import pytest
import torch
from eval_fakes import TINY_ARCH, shrink_pretrain_cfg, write_cifar10
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS

from famt_mm.checkpoint import backbone_state_dict, load_mmengine_checkpoint
from famt_mm.evaluation.protocol import (
    build_protocol_cfg,
    describe_pretraining,
    find_checkpoint,
    read_pretraining,
    render_markdown,
    update_table,
)
from famt_mm.testing import build_runner, load_script

pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout

PRETRAIN_CONFIG = osp.join(
    ROOT, 'configs', 'famt', 'pretrain', 'famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar10.py'
)


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory):
    """Two epochs of the CIFAR-10 FAMT-MAE config (tiny ViT) on 8 images of a written CIFAR-10,
    refreshing before epoch 1, so the checkpoint carries guided-masking state too."""
    data_root = str(tmp_path_factory.mktemp('cifar10'))
    write_cifar10(data_root, num_train=20, num_test=10)
    work_dir = tmp_path_factory.mktemp('pretrain')
    cfg = shrink_pretrain_cfg(
        Config.fromfile(PRETRAIN_CONFIG), work_dir, data_root, batch_size=4, refresh_start_epoch=1
    )
    cfg.train_dataloader.dataset.indices = 8
    cfg.train_cfg.max_epochs = 2
    build_runner(cfg).train()
    return dict(work_dir=str(work_dir), data_root=data_root, checkpoint=find_checkpoint(str(work_dir)))


def _model(protocol, checkpoint, tmp_path, **kwargs):
    pretrain_cfg, _ = read_pretraining(checkpoint)
    cfg, notes = build_protocol_cfg(protocol, 'cifar10', checkpoint, pretrain_cfg, str(tmp_path), **kwargs)
    return MODELS.build(cfg.model), cfg, notes


def _save(path, state_dict, model_cfg):
    meta = dict(epoch=1, cfg=Config(dict(model=model_cfg)).pretty_text)
    torch.save(dict(state_dict=state_dict, meta=meta), path)
    return str(path)


def test_the_pretraining_checkpoint(pretrained):
    ckpt = load_mmengine_checkpoint(pretrained['checkpoint'])
    assert ckpt['meta']['epoch'] == 2
    assert ckpt['famt_importance']['maps'].shape == (8, 16, 16)  # guided masking was on
    cfg, meta = read_pretraining(pretrained['checkpoint'])
    assert describe_pretraining(cfg) == 'FAMT-MAE (mask 0.45, throw 0.4)'


@pytest.mark.parametrize('protocol', ['linear', 'finetune'])
def test_every_backbone_key_comes_from_the_checkpoint(pretrained, tmp_path, protocol):
    model, cfg, notes = _model(protocol, pretrained['checkpoint'], tmp_path)
    assert any('backbone arch' in n for n in notes)  # the tiny pretraining arch, not ViT-B
    model.init_weights()
    ckpt = load_mmengine_checkpoint(pretrained['checkpoint'])
    pretrained_backbone = backbone_state_dict(ckpt, 'backbone.')
    new = []
    for key, value in model.backbone.state_dict().items():
        if key in pretrained_backbone:
            assert torch.equal(value, pretrained_backbone[key]), key
        else:
            new.append(key)
    if protocol == 'linear':
        assert new == []  # frozen ViT with its final norm: all pretrained
        assert not any(p.requires_grad for p in model.backbone.parameters())
    else:
        assert new == ['ln2.weight', 'ln2.bias']  # MAE fine-tuning's norm of the pooled tokens


def test_checkpoint_with_wrong_keys_fails_loudly(pretrained, tmp_path):
    ckpt = load_mmengine_checkpoint(pretrained['checkpoint'])
    pretrain_cfg, _ = read_pretraining(pretrained['checkpoint'])
    # ViTDet-style names: what a wrong conversion produces; mmengine alone would only log it
    renamed = {k.replace('.layers.', '.blocks.'): v for k, v in ckpt['state_dict'].items()}
    wrong = _save(tmp_path / 'renamed.pth', renamed, pretrain_cfg.model.to_dict())
    model, _, _ = _model('linear', wrong, tmp_path)
    with pytest.raises(
        RuntimeError,
        match=r'lacks 24 of the 30 keys of VisionTransformer, which '
        r'would stay randomly initialised: layers\.0\.ln1',
    ):
        model.init_weights()

    unprefixed = {
        k[len('backbone.') :]: v for k, v in ckpt['state_dict'].items() if k.startswith('backbone.')
    }
    wrong = _save(tmp_path / 'unprefixed.pth', unprefixed, pretrain_cfg.model.to_dict())
    model, _, _ = _model('finetune', wrong, tmp_path)
    with pytest.raises(RuntimeError, match="holds 0 keys under the prefix.*'backbone.'"):
        model.init_weights()


def test_without_the_check_mmengine_would_train_a_random_encoder(pretrained, tmp_path):
    # the reason for FAMTCheckPretrainedKeys: the same wrong checkpoint passes mmengine's own loading
    ckpt = load_mmengine_checkpoint(pretrained['checkpoint'])
    pretrain_cfg, _ = read_pretraining(pretrained['checkpoint'])
    renamed = {k.replace('.layers.', '.blocks.'): v for k, v in ckpt['state_dict'].items()}
    wrong = _save(tmp_path / 'renamed.pth', renamed, pretrain_cfg.model.to_dict())
    pretrain_cfg_, _ = read_pretraining(wrong)
    cfg, _ = build_protocol_cfg('linear', 'cifar10', wrong, pretrain_cfg_, str(tmp_path))
    cfg.model.init_cfg = None
    model = MODELS.build(cfg.model)
    model.init_weights()  # no error
    assert not torch.equal(model.backbone.layers[0].ln1.weight, renamed['backbone.blocks.0.ln1.weight'])


def test_wrong_shapes_and_missing_checkpoint_are_named(pretrained, tmp_path):
    pretrain_cfg, _ = read_pretraining(pretrained['checkpoint'])
    cfg, _ = build_protocol_cfg('linear', 'cifar10', pretrained['checkpoint'], pretrain_cfg, str(tmp_path))
    cfg.model.backbone.patch_size = 4  # pretrained with 2-px patches
    with pytest.raises(
        RuntimeError,
        match=r'patch_embed\.projection\.weight \(32, 3, 2, 2\) vs '
        r'\(32, 3, 4, 4\)',
    ):
        MODELS.build(cfg.model).init_weights()
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'famt', 'benchmarks', 'vit-base-p2_1xb1024-linear-coslr-90e_cifar10.py')
    )
    with pytest.raises(ValueError, match=r'backbone\.init_cfg\.checkpoint is empty'):
        MODELS.build(cfg.model).init_weights()


def test_simmim_checkpoint_fine_tunes_with_layer_decay_065(tmp_path):
    torch.manual_seed(0)
    vit = VisionTransformer(arch=TINY_ARCH, img_size=32, patch_size=2)
    state = {f'backbone.{k}': v for k, v in vit.state_dict().items()}
    state['backbone.mask_token'] = torch.zeros(1, 1, TINY_ARCH['embed_dims'])  # FAMTSimMIMViT's
    checkpoint = _save(
        tmp_path / 'simmim.pth',
        state,
        dict(
            type='FAMTSimMIM', backbone=dict(type='FAMTSimMIMViT', arch=TINY_ARCH, img_size=32, patch_size=2)
        ),
    )
    model, cfg, _ = _model('finetune', checkpoint, tmp_path)
    assert osp.basename(cfg.filename) == 'vit-base-p2_1xb256-simmim-coslr-100e_cifar10.py'
    model.init_weights()
    assert torch.equal(
        model.backbone.layers[1].ffn.layers[1].weight, state['backbone.layers.1.ffn.layers.1.weight']
    )
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    scales = {g['param_name']: g['lr_scale'] for g in optim_wrapper.optimizer.param_groups}
    # 2 blocks: depths 0 (embeddings) .. 3 (head); lr scale 0.65 ** (3 - depth)
    assert scales['backbone.patch_embed.projection.weight'] == pytest.approx(0.65**3)
    assert scales['backbone.layers.1.attn.qkv.weight'] == pytest.approx(0.65)
    assert scales['head.fc.weight'] == pytest.approx(1.0)


def test_find_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='no checkpoint in'):
        find_checkpoint(str(tmp_path))
    for epoch in (2, 10):
        (tmp_path / f'epoch_{epoch}.pth').write_bytes(b'')
    assert find_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')
    # mmengine's record, written on another machine: the file name is found in the work dir
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/work/epoch_2.pth')
    assert find_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')


def test_table_rows_are_replaced_per_checkpoint_and_dataset(tmp_path):
    table = str(tmp_path / 'results')
    update_table(dict(dataset='cifar10', checkpoint='/a.pth', linear_top1=50.0), table)
    update_table(dict(dataset='stl10', checkpoint='/a.pth', linear_top1=40.0), table)
    update_table(dict(dataset='cifar10', checkpoint='/a.pth', linear_top1=60.0), table)
    with open(f'{table}.json') as f:
        rows = json.load(f)
    assert [(r['dataset'], r['linear_top1']) for r in rows] == [('stl10', 40.0), ('cifar10', 60.0)]
    with open(f'{table}.md') as f:
        assert f.read() == render_markdown(rows)
    assert '| cifar10 |  |  |  | 60.00 |' in render_markdown(rows)


def test_evaluate_tool_probes_fine_tunes_and_writes_the_row(pretrained, tmp_path):
    tool = load_script(osp.join(ROOT, 'tools', 'evaluate.py'), 'famt_evaluate')
    table = str(tmp_path / 'results')
    options = [
        'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=4',
        'val_dataloader.batch_size=5',
        'test_dataloader.batch_size=5',
    ]
    options += [
        f'{loader}.{key}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        for key in ('num_workers=0', 'persistent_workers=False')
    ]
    row = tool.main(
        [
            pretrained['work_dir'],
            '--dataset',
            'cifar10',
            '--data-root',
            pretrained['data_root'],
            '--table',
            table,
            '--cfg-options',
            *options,
        ]
    )

    with open(f'{table}.json') as f:
        rows = json.load(f)
    assert rows == [row]
    assert row['checkpoint'] == osp.abspath(pretrained['checkpoint'])
    assert (row['dataset'], row['pretraining'], row['pretrain_epochs']) == (
        'cifar10',
        'FAMT-MAE (mask 0.45, throw 0.4)',
        2,
    )
    assert (row['linear_epochs'], row['finetune_epochs']) == (1, 1)
    for protocol in ('linear', 'finetune'):
        # measured on the 10 written test images: a multiple of 10 %
        assert row[f'{protocol}_top1'] in [10.0 * i for i in range(11)]
        assert osp.isdir(osp.join(pretrained['work_dir'], 'eval_cifar10', protocol))
    assert 'train_cfg.max_epochs=1' in row['overrides']
    with open(f'{table}.md') as f:
        lines = f.read().splitlines()
    assert len(lines) == 3 and 'FAMT-MAE (mask 0.45, throw 0.4)' in lines[2]
    assert os.path.isfile(pretrained['checkpoint'])


@pytest.mark.parametrize(
    'name,expected',
    [
        ('famt-mae_vit-base-p6_1xb256-amp-coslr-400e_stl10.py', 'FAMT-MAE (mask 0.45, throw 0.4)'),
        ('amt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar100.py', 'AMT-MAE (mask 0.45, throw 0.4)'),
        ('baseline-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py', 'MAE (random, mask 0.75)'),
    ],
)
def test_the_row_names_the_pretraining(name, expected):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'famt', 'pretrain', name))
    assert describe_pretraining(cfg) == expected
