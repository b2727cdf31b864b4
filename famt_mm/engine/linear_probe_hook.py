"""Linear probe of frozen features on a small labelled dataset, run before and after training."""

import json
import os.path as osp

import numpy as np
import torch
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from .utils import loader_with_whole_images, unwrap_model


def pooled_features(features: torch.Tensor) -> torch.Tensor:
    """(B, C) probe features: the mean of a ViT's patch tokens (B, 1 + N, C), CLS token left out, or
    of a CNN's last feature map (B, C, h, w) over its positions."""
    if features.dim() == 4:
        return features.mean(dim=(-2, -1))
    if features.dim() == 3:
        return features[:, 1:].mean(dim=1)
    raise ValueError(
        f'FAMTLinearProbeHook needs tokens (B, 1 + N, C) or a feature map (B, C, h, w) from '
        f'extract_feat, got shape {tuple(features.shape)}'
    )


@HOOKS.register_module()
class FAMTLinearProbeHook(Hook):
    """Fits a logistic-regression probe on frozen backbone features and logs its held-out top-1.

    Meant for small datasets (the embedded digits demo): features of every image are extracted once
    (``model.extract_feat`` in eval mode, the mean of the final-normed patch tokens, or of a CNN's
    last feature map: :func:`pooled_features`), standardised, and a multinomial logistic
    regression (scikit-learn, L-BFGS) is fitted on ``train_dataloader``'s and scored on
    ``test_dataloader``'s. It runs before training (the randomly initialised encoder, a
    reference point) and after training, logs both, and writes them to ``linear_probe.json`` in the
    work dir. Single-process training only: under DDP it logs that it is skipped (each rank would see
    only its shard of the probe data).

    A loader whose dataset gives no ``pipeline`` reads the whole image as the refresh hook scores it: the
    training pipeline's loading, a resize to the training views' size and ``PackInputs``.

    Args:
        train_dataloader (dict): loader of the probe's training images (no augmentation).
        test_dataloader (dict): loader of the held-out images.
        c (float): inverse L2 strength of the logistic regression. Defaults to 1.0.
    """

    priority = 'LOW'

    def __init__(self, train_dataloader: dict, test_dataloader: dict, c: float = 1.0):
        self.train_dataloader = train_dataloader
        self.test_dataloader = test_dataloader
        self.c = c
        self.results = {}

    def before_train(self, runner) -> None:
        if get_world_size() > 1:
            runner.logger.warning('FAMTLinearProbeHook is skipped in distributed training')
            return
        if runner.epoch == 0:
            self.results['init_top1'] = self.probe(runner)
            runner.logger.info(f'linear probe before training: top-1 {self.results["init_top1"]:.2f} %')

    def after_train(self, runner) -> None:
        if get_world_size() > 1:
            return
        top1 = self.probe(runner)
        self.results.update(top1=top1, epochs=runner.epoch)
        runner.logger.info(
            f'linear probe after {runner.epoch} epochs: top-1 {top1:.2f} % on '
            f'{self.results["num_test"]} held-out images'
        )
        runner.visualizer.add_scalars({'linear_probe/top1': top1}, step=runner.epoch)
        with open(osp.join(runner.work_dir, 'linear_probe.json'), 'w') as f:
            json.dump(self.results, f, indent=2)

    @torch.no_grad()
    def extract(self, runner, loader_cfg: dict):
        model = unwrap_model(runner)
        was_training = model.training
        model.eval()
        feats, labels = [], []
        loader_cfg = loader_with_whole_images(loader_cfg, runner, 'FAMTLinearProbeHook')
        try:
            for data in runner.build_dataloader(loader_cfg, seed=runner.seed):
                data = model.data_preprocessor(data, training=False)
                feats.append(pooled_features(model.extract_feat(data['inputs'])[-1]).float().cpu())
                labels.extend(int(s.gt_label) for s in data['data_samples'])
        finally:
            model.train(was_training)
        return torch.cat(feats).numpy(), np.asarray(labels)

    def probe(self, runner) -> float:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        train_x, train_y = self.extract(runner, self.train_dataloader)
        test_x, test_y = self.extract(runner, self.test_dataloader)
        scaler = StandardScaler().fit(train_x)
        clf = LogisticRegression(C=self.c, max_iter=2000)
        clf.fit(scaler.transform(train_x), train_y)
        self.results['num_test'] = int(len(test_y))
        return float((clf.predict(scaler.transform(test_x)) == test_y).mean() * 100)
