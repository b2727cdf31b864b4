"""Two-process DDP (gloo, CPU) through mmengine: each rank scores its shard, both end identical."""
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

pytestmark = [pytest.mark.slow, pytest.mark.classic]


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, work_dir, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size))
    # mmengine's pytorch launcher would call torch.cuda.set_device; on CPU the group is made here
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    from mmengine.runner import Runner

    import famt_mm  # noqa: F401
    from famt_mm.testing import demo_cfg

    # 45 images over 2 ranks: the sampler pads rank 1's shard with a duplicate
    cfg = demo_cfg(work_dir, max_epochs=2, start_epoch=1, interval=1, num_images=45)
    cfg.launcher = 'pytorch'
    cfg.env_cfg = dict(dist_cfg=dict(backend='gloo'))
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)
    cfg.train_dataloader.batch_size = 8
    runner = Runner.from_cfg(cfg)
    scored = []
    original = runner.model.module.extract_feat
    runner.model.module.extract_feat = lambda x: scored.append(len(x)) or original(x)
    runner.train()
    torch.save(dict(maps=runner.model.module.data_preprocessor.importance_cache.maps,
                    scored=sum(scored)), os.path.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_two_rank_refresh_gathers_identical_full_caches(tmp_path):
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path / 'work'), str(out_dir)), nprocs=2,
             join=True)
    rank0 = torch.load(out_dir / 'rank0.pt', weights_only=True)
    rank1 = torch.load(out_dir / 'rank1.pt', weights_only=True)
    assert rank0['maps'].shape == (45, 4, 4)
    assert torch.equal(rank0['maps'], rank1['maps'])
    assert torch.isfinite(rank0['maps'].float()).all()
    # each rank scored its own padded shard, ceil(45 / 2) = 23 images, and the first image in the
    # check before training
    assert rank0['scored'] == rank1['scored'] == 23 + 1
