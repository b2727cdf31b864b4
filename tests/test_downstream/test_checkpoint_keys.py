"""famt_mm.checkpoint: the one key-coverage check, the renames, reading files that are no checkpoint."""

import pytest
import torch
from downstream_utils import last_line_printed_by
from torch import nn

from famt_mm.checkpoint import (
    CHECKPOINT_WEIGHTS_ONLY,
    MMDET,
    MMSEG,
    CheckpointFileError,
    KeyRules,
    NotPretrained,
    backbone_state_dict,
    check_state_dict_covers,
    key_coverage,
    read_checkpoint,
    renamed_tensors,
    unwrap_state_dict,
)


def _vit_block_keys(depth: int = 2, width: int = 8) -> dict:
    """An mmpretrain ViT backbone state dict (no prefix), every tensor distinct."""
    state = {
        'cls_token': torch.zeros(1, 1, width),
        'pos_embed': torch.zeros(1, 5, width),
        'patch_embed.projection.weight': torch.zeros(width, 3, 2, 2),
        'ln1.weight': torch.ones(width),
    }
    for i in range(depth):
        state.update(
            {
                f'layers.{i}.ln1.weight': torch.ones(width),
                f'layers.{i}.attn.qkv.weight': torch.zeros(3 * width, width),
                f'layers.{i}.ffn.layers.0.0.weight': torch.zeros(2 * width, width),
                f'layers.{i}.ffn.layers.1.weight': torch.zeros(width, 2 * width),
            }
        )
    return {k: v + n for n, (k, v) in enumerate(state.items())}


def _vitdet_target(depth: int = 2, width: int = 8) -> dict:
    state = {'pos_embed': torch.zeros(1, 5, width), 'patch_embed.proj.weight': torch.zeros(width, 3, 2, 2)}
    for i in range(depth):
        state.update(
            {
                f'blocks.{i}.norm1.weight': torch.zeros(width),
                f'blocks.{i}.attn.qkv.weight': torch.zeros(3 * width, width),
                f'blocks.{i}.attn.rel_pos_h': torch.zeros(3, width // 2),
                f'blocks.{i}.mlp.fc1.weight': torch.zeros(2 * width, width),
                f'blocks.{i}.mlp.fc2.weight': torch.zeros(width, 2 * width),
            }
        )
    return state


def test_the_vitdet_renames_load_every_weight_and_say_what_they_left_out():
    source = _vit_block_keys()
    report = key_coverage(source, _vitdet_target(), MMDET.renames, MMDET.rules, 'mmdet')
    assert report.ok, report.summary()
    assert sorted(report.dropped) == ['cls_token', 'ln1.weight']
    assert sorted(report.not_pretrained) == ['blocks.0.attn.rel_pos_h', 'blocks.1.attn.rel_pos_h']
    assert report.renamed['layers.1.ffn.layers.0.0.weight'] == 'blocks.1.mlp.fc1.weight'
    tensors = renamed_tensors(source, report)
    assert set(tensors) == set(report.matched)
    assert tensors['blocks.1.mlp.fc2.weight'] is source['layers.1.ffn.layers.1.weight']


def test_missing_unexpected_mismatched_and_colliding_keys_are_each_reported():
    source = _vit_block_keys()
    del source['layers.0.attn.qkv.weight']
    source['layers.2.ln1.weight'] = torch.ones(8)  # a block the target lacks
    source['patch_embed.projection.weight'] = torch.zeros(8, 3, 4, 4)  # another patch size
    source['patch_embed.proj.weight'] = torch.zeros(8, 3, 2, 2)  # already renamed: collides
    report = key_coverage(source, _vitdet_target(), MMDET.renames, MMDET.rules, 'mmdet')
    assert report.missing == ['blocks.0.attn.qkv.weight']
    assert report.unexpected == ['blocks.2.norm1.weight']
    assert report.collisions == ['patch_embed.proj.weight']
    problems = ' '.join(report.problems())
    assert '1 backbone weights would stay uninitialised' in problems
    assert 'no place in the target backbone (unexpected): blocks.2.norm1.weight' in problems
    assert 'several sources: patch_embed.proj.weight' in problems
    assert not report.ok
    assert report.problems(unexpected=False) != report.problems()


def test_a_layer_scale_off_its_neutral_start_and_a_resized_position_embedding():
    width = 8
    target = {'pos_embed': torch.zeros(1, 1 + 16, width), 'layers.0.gamma_1': torch.full((width,), 0.1)}
    report = key_coverage(
        {'pos_embed': torch.zeros(1, 1 + 4, width)}, target, MMSEG.renames, MMSEG.rules, 'mmseg'
    )
    assert report.resized == ['pos_embed']
    assert report.off_neutral == [
        'layers.0.gamma_1 does not start at 1 (layer scale, absent from a '
        'plain ViT: must start at 1 (init_values=1.0) so the pretrained '
        'blocks compute what they learned)'
    ]
    wider = key_coverage({'pos_embed': torch.zeros(1, 5, 2 * width)}, target, rules=MMSEG.rules)
    assert wider.shape_mismatch == ['pos_embed (1, 5, 16) vs (1, 17, 8)']


def test_the_initializer_check_tolerates_allowed_and_unused_keys_only():
    module = nn.Sequential(nn.Linear(2, 3), nn.LayerNorm(3))
    state = {'0.weight': torch.zeros(3, 2), '0.bias': torch.zeros(3), 'extra': torch.zeros(1)}
    assert check_state_dict_covers(module, state, allow_missing=[r'1\.']) == ('extra',)
    with pytest.raises(
        RuntimeError,
        match=r'lacks 2 of the 4 keys of Sequential, which would stay '
        r'randomly initialised: 1\.weight, 1\.bias',
    ):
        check_state_dict_covers(module, state)
    with pytest.raises(RuntimeError, match=r'does not fit Sequential .*0\.bias \(4,\) vs \(3,\)'):
        check_state_dict_covers(module, {**state, '0.bias': torch.zeros(4)}, allow_missing=[r'1\.'])
    # allow_missing is matched at the start of the key, as re.match does
    with pytest.raises(RuntimeError, match='lacks 2 of the 4 keys'):
        check_state_dict_covers(module, state, allow_missing=[r'weight'])


def test_state_dicts_are_found_under_state_dict_model_or_bare():
    tensor = torch.zeros(1)
    assert unwrap_state_dict({'state_dict': {'a': tensor}, 'meta': {}}) == ({'a': tensor}, ['meta'])
    assert unwrap_state_dict({'model': {'a': tensor}}) == ({'a': tensor}, [])
    assert unwrap_state_dict({'a': tensor}) == ({'a': tensor}, [])
    with pytest.raises(
        CheckpointFileError,
        match=r"ckpt.pth holds no state dict: no 'state_dict' "
        r"or 'model' entry and no tensors \(top-level "
        r'entries: meta\)',
    ):
        unwrap_state_dict({'meta': {'epoch': 1}}, 'ckpt.pth')
    # mmengine's Pretrained(prefix=...) reads 'state_dict' or the bare dict, never 'model'
    assert backbone_state_dict({'state_dict': {'backbone.a': tensor, 'head.b': tensor}}, 'backbone') == {
        'a': tensor
    }
    with pytest.raises(CheckpointFileError, match="no 'state_dict' entry"):
        backbone_state_dict({'model': {'backbone.a': tensor}}, 'backbone.')


@pytest.mark.parametrize(
    'content',
    [
        b'not a checkpoint',
        b'',
        b'0.5\n',
        b'epoch: 3\n',  # the last: IndexError from the unpickler
        b'\x80\x02]q\x00.',
        b'PK\x03\x04junk',
    ],
)  # a pickle of [], a broken zip
def test_reading_what_is_not_a_checkpoint_names_the_file(content, tmp_path):
    path = tmp_path / 'notes.pth'
    path.write_bytes(content)
    with pytest.raises(CheckpointFileError, match=rf'^--checkpoint: {path} is not a checkpoint'):
        read_checkpoint(str(path), setting='--checkpoint')


@pytest.mark.skipif(
    not CHECKPOINT_WEIGHTS_ONLY,
    reason=f'torch {torch.__version__} has no allow-list '
    '(add_safe_globals): checkpoints load as mmengine loads them, weights_only=False',
)
def test_a_pickle_of_other_objects_is_named_as_such(tmp_path):
    path = tmp_path / 'pickled.pth'
    torch.save({'state_dict': {}, 'loss': nn.MSELoss}, path)
    with pytest.raises(
        CheckpointFileError,
        match=r'pickled\.pth holds objects that torch\.load\('
        r'weights_only=True\) refuses \(GLOBAL '
        r'torch\.nn\.modules\.loss\.MSELoss',
    ):
        read_checkpoint(str(path))


def test_a_legacy_format_checkpoint_is_read_when_asked_to_map_it(tmp_path):
    path = tmp_path / 'legacy.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}}, path, _use_new_zipfile_serialization=False)
    assert torch.equal(read_checkpoint(str(path), mmap=True)['state_dict']['w'], torch.ones(2))


def test_reading_a_missing_file_a_directory_or_a_bare_tensor_names_it(tmp_path):
    with pytest.raises(CheckpointFileError, match=f'{tmp_path}/gone.pth: no such checkpoint file'):
        read_checkpoint(str(tmp_path / 'gone.pth'))
    with pytest.raises(CheckpointFileError, match=f'{tmp_path} is a directory, not a checkpoint'):
        read_checkpoint(str(tmp_path))
    torch.save(torch.zeros(2), tmp_path / 'tensor.pth')
    with pytest.raises(CheckpointFileError, match=r'tensor\.pth is not a checkpoint: it holds a Tensor'):
        read_checkpoint(str(tmp_path / 'tensor.pth'))
    torch.save({'state_dict': {'w': torch.ones(2)}}, tmp_path / 'ok.pth')
    assert torch.equal(read_checkpoint(str(tmp_path / 'ok.pth'))['state_dict']['w'], torch.ones(2))


def test_the_checkpoint_package_imports_without_mmdet_mmseg_or_mmcv_ops():
    """Blocked imports raise ImportError: the package and ``import famt_mm`` must not need them."""
    code = (
        'import sys\n'
        'for name in ("mmdet", "mmseg", "mmcv.ops"):\n'
        '    sys.modules[name] = None\n'
        'import famt_mm, famt_mm.checkpoint\n'
        'from mmengine.registry import WEIGHT_INITIALIZERS\n'
        'print(WEIGHT_INITIALIZERS.get("FAMTCheckPretrainedKeys").__module__)\n'
    )
    assert last_line_printed_by(code) == 'famt_mm.checkpoint.initializer'


def test_not_pretrained_rules_search_anywhere_in_the_key():
    rules = KeyRules(not_pretrained=(NotPretrained(r'\.rel_pos_h$', 0.0, 'tables'),))
    report = key_coverage({}, {'blocks.0.attn.rel_pos_h': torch.ones(2)}, rules=rules)
    assert report.not_pretrained == ['blocks.0.attn.rel_pos_h']
    assert report.off_neutral == ['blocks.0.attn.rel_pos_h does not start at 0 (tables)']
