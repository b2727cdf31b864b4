"""DDP (gloo, CPU) through mmengine: each rank scores its shard and all ranks end with the same full cache;
a checkpoint of a 2-rank run resumes on 1, 3 and 4 ranks with its cache, guided masking and refreshes.

43 images: no world size here divides it, so the sampler pads a shard in every run."""

import contextlib
import math
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

pytestmark = [pytest.mark.slow, pytest.mark.classic]

NUM_IMAGES = 43
BATCH_SIZE = 8


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _init_group(rank, world_size, port):
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
    )
    # mmengine's pytorch launcher would call torch.cuda.set_device; on CPU the group is made here
    dist.init_process_group('gloo', rank=rank, world_size=world_size)


def _cfg(work_dir, distributed: bool, **schedule):
    from famt_mm.testing import demo_cfg

    cfg = demo_cfg(work_dir, num_images=NUM_IMAGES, **schedule)
    cfg.train_dataloader.batch_size = BATCH_SIZE
    if distributed:
        cfg.launcher = 'pytorch'
        cfg.env_cfg = dict(dist_cfg=dict(backend='gloo'))
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)
    return cfg


def _train_and_record(cfg) -> dict:
    """Train ``cfg`` and return what the test checks: the cache right after loading (before the first
    step), the plans drawn, the refreshes and the sample_idx each scored, the final cache."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    import famt_mm  # noqa: F401
    from famt_mm.testing.runs import refresh_hook_of

    runner = Runner.from_cfg(cfg)
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    preprocessor, hook = model.data_preprocessor, refresh_hook_of(runner)
    record = dict(plans=[], refreshes=[], scored=[], scoring=False)
    refresh, forward, sample = hook.refresh, preprocessor.forward, preprocessor.sample_mask_plan

    def refreshing(r):
        record['refreshes'].append(r.epoch)
        record['scoring'] = True
        try:
            refresh(r)
        finally:
            record['scoring'] = False

    def forwarding(data, training=False):
        if record['scoring']:
            record['scored'].extend(int(s.sample_idx) for s in data['data_samples'])
        return forward(data, training)

    def sampling(inputs, data_samples):
        plan = sample(inputs, data_samples)
        record['plans'].append((runner.epoch, plan.visible.shape[1], plan.thrown.shape[1]))
        return plan

    class Loaded(Hook):
        def before_train(self, runner):  # after the refresh hook's (priority LOWEST)
            maps = preprocessor.importance_cache.maps
            record.update(loaded=None if maps is None else maps.clone(), loaded_epoch=hook.refreshed_epoch)

    hook.refresh, preprocessor.forward, preprocessor.sample_mask_plan = refreshing, forwarding, sampling
    runner.register_hook(Loaded(), priority='LOWEST')
    runner.train()
    record.update(final=preprocessor.importance_cache.maps, scoring=None)
    return record


def _two_rank_worker(rank, world_size, port, work_dir, out_dir):
    _init_group(rank, world_size, port)
    # warm-up epoch, refresh before the second; checkpoints after each
    record = _train_and_record(_cfg(work_dir, True, max_epochs=2, start_epoch=1, interval=1))
    torch.save(record, os.path.join(out_dir, f'two_rank{rank}.pt'))
    dist.destroy_process_group()


@pytest.fixture(scope='module')
def two_rank_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('ddp')
    out_dir = root / 'out'
    out_dir.mkdir()
    mp.spawn(_two_rank_worker, args=(2, _free_port(), str(root / 'work'), str(out_dir)), nprocs=2, join=True)
    records = [torch.load(out_dir / f'two_rank{r}.pt', weights_only=False) for r in range(2)]
    return records, str(root / 'work' / 'epoch_2.pth'), root


def test_two_rank_refresh_gathers_identical_full_caches(two_rank_run):
    records, _, _ = two_rank_run
    rank0, rank1 = records
    assert rank0['final'].shape == (NUM_IMAGES, 4, 4)
    assert torch.equal(rank0['final'], rank1['final'])
    assert torch.isfinite(rank0['final'].float()).all()
    # each rank scored its own shard of ceil(43 / 2) = 22 images (rank 1's padded with a duplicate)
    assert len(rank0['scored']) == len(rank1['scored']) == math.ceil(NUM_IMAGES / 2)
    assert set(rank0['scored']) | set(rank1['scored']) == set(range(NUM_IMAGES))
    assert rank0['refreshes'] == rank1['refreshes'] == [1]


def _resume_worker(process, ports, checkpoint, root):
    """One spawn of 4 processes serves three runs (imports are most of a tiny run's time): processes 0-2
    resume on 3 ranks while process 3 resumes alone (no process group), then all 4 resume on 4 ranks."""
    # resumed at epoch 2 (0-based) of 4: epoch 2 guided by the restored cache, a refresh before epoch 3
    schedule = dict(max_epochs=4, start_epoch=1, interval=2)

    def resume(world_size, rank):
        cfg = _cfg(os.path.join(root, f'work{world_size}'), world_size > 1, **schedule)
        cfg.resume, cfg.load_from = True, checkpoint
        torch.save(_train_and_record(cfg), os.path.join(root, f'resumed{world_size}_rank{rank}.pt'))

    if process < 3:
        _init_group(process, 3, ports[0])
        resume(3, process)
        dist.destroy_process_group()
    else:
        resume(1, 0)
    _init_group(process, 4, ports[1])
    resume(4, process)
    torch.save(_assembly_probe(process, 4), os.path.join(root, f'assembly_rank{process}.pt'))
    dist.destroy_process_group()


#: the probe's training set: 200,001 maps of 14 x 14 (a 75 MiB cache), 4 padded shards of 50,001
PROBE_IMAGES = 200_001


def _assembly_probe(rank, world_size) -> dict:
    """The refresh's assembly on synthetic shards as DefaultSampler deals them (padded, interleaved):
    the peak memory it adds on this rank, and whether every map landed at its sample_idx."""
    from famt_mm.engine import refresh_hook
    from famt_mm.testing.memory import can_measure_peak, peak_growth

    refresh_hook.ASSEMBLY_CHUNK = 1024  # chunk temporaries of 1,024 maps: negligible here
    total = math.ceil(PROBE_IMAGES / world_size) * world_size
    indices = (torch.arange(total) % PROBE_IMAGES)[rank::world_size]
    value = lambda i: 1.0 + (i % 251).float() / 251  # noqa: E731  (a map constant per image)
    maps = value(indices)[:, None, None].expand(-1, 14, 14).half().contiguous()
    previous = [torch.ones(PROBE_IMAGES, 14, 14, dtype=torch.float16)]
    measured = can_measure_peak()
    with peak_growth() if measured else contextlib.nullcontext({}) as peak:
        cache = refresh_hook.FAMTRefreshHook._assemble(maps, indices, PROBE_IMAGES, release=previous.clear)
    expected = value(torch.arange(PROBE_IMAGES))[:, None, None].expand(-1, 14, 14).half()
    return dict(
        peak=peak.get('bytes'),
        cache_bytes=cache.numel() * 2,
        released=not previous,
        placed=torch.equal(cache, expected),
    )


@pytest.fixture(scope='module')
def resumed_runs(two_rank_run):
    _, checkpoint, root = two_rank_run
    mp.spawn(_resume_worker, args=((_free_port(), _free_port()), checkpoint, str(root)), nprocs=4, join=True)
    return {
        world_size: [
            torch.load(root / f'resumed{world_size}_rank{r}.pt', weights_only=False)
            for r in range(world_size)
        ]
        for world_size in (1, 3, 4)
    }


@pytest.mark.parametrize('world_size', [1, 3, 4])
def test_a_two_rank_checkpoint_resumes_on_another_number_of_ranks(world_size, two_rank_run, resumed_runs):
    saved = two_rank_run[0][0]['final']
    records = resumed_runs[world_size]
    for record in records:
        # the 2-rank run's cache, restored as it was, and its refresh epoch
        assert torch.equal(record['loaded'], saved)
        assert record['loaded_epoch'] == 1
        # the first resumed epoch masks guided (16 patches: 7 masked, 6 thrown, 3 visible), no warm-up
        first = {(v, t) for e, v, t in record['plans'] if e == 2}
        assert first == {(3, 6)}
        assert record['refreshes'] == [3]
        # every rank scored its shard of ceil(43 / world_size) images
        assert len(record['scored']) == math.ceil(NUM_IMAGES / world_size)
    assert set().union(*(r['scored'] for r in records)) == set(range(NUM_IMAGES))
    final = records[0]['final']
    assert final.shape == (NUM_IMAGES, 4, 4) and torch.isfinite(final.float()).all()
    assert not torch.equal(final, saved)  # scored again with the weights trained since
    for record in records[1:]:
        assert torch.equal(record['final'], final)


def test_four_ranks_assemble_the_cache_shard_by_shard(resumed_runs, two_rank_run):
    """Each rank's maps reach the others one shard at a time and are written as they arrive: a rank
    adds one received shard (a quarter of the cache) and chunk temporaries to the new cache, which takes
    the previous one's place (all_gather and a concatenation held two more full copies)."""
    root = two_rank_run[2]
    probes = [torch.load(root / f'assembly_rank{r}.pt', weights_only=False) for r in range(4)]
    for probe in probes:
        assert probe['placed'] and probe['released']
        if probe['peak'] is not None:  # Linux: the peak resident set size can be reset and read
            assert probe['peak'] < 0.5 * probe['cache_bytes'], probe['peak'] / probe['cache_bytes']
