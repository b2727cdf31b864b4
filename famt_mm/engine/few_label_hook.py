"""Few-label evaluation of a pretrained encoder: fine-tune, linear probes and k-NN, after training."""

import copy
import json
import math
import os.path as osp
from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS
from torch import nn

from .linear_probe_hook import pooled_features
from .utils import loader_with_whole_images, unwrap_model


def random_shifts(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each (C, H, W) image moved by up to ``max_shift`` pixels both ways, edges replicated."""
    if max_shift == 0:
        return images
    height, width = images.shape[-2:]
    padded = F.pad(images, [max_shift] * 4, mode='replicate')
    offsets = torch.randint(0, 2 * max_shift + 1, (images.shape[0], 2), generator=generator)
    return torch.stack(
        [padded[i, :, dy : dy + height, dx : dx + width] for i, (dy, dx) in enumerate(offsets.tolist())]
    )


def image_features(features: torch.Tensor) -> torch.Tensor:
    """(B, C) one vector per image, the one a classifier head reads: a ViT's CLS token (tokens
    (B, 1 + N, C)) or the mean of a CNN's last feature map (B, C, h, w) over its positions."""
    if features.dim() == 3:
        return features[:, 0]
    return pooled_features(features)


def knn_top1(
    train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor, k: int
) -> float:
    """Top-1 % of a cosine k-NN classifier: each of the ``k`` nearest votes with its similarity."""
    train_x, test_x = F.normalize(train_x.float(), dim=1), F.normalize(test_x.float(), dim=1)
    sims, idx = (test_x @ train_x.T).topk(min(k, len(train_x)), dim=1)
    votes = torch.zeros(len(test_x), int(train_y.max()) + 1).scatter_add_(1, train_y[idx], sims)
    return float((votes.argmax(dim=1) == test_y).float().mean() * 100)


def probe_top1(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, c: float
) -> float:
    """Top-1 % of a standardised multinomial logistic regression (scikit-learn, L-BFGS)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    clf = LogisticRegression(C=c, max_iter=2000).fit(scaler.transform(train_x), train_y)
    return float((clf.predict(scaler.transform(test_x)) == test_y).mean() * 100)


@HOOKS.register_module()
class FAMTFewLabelEvalHook(Hook):
    """Evaluates the encoder on a small labelled set: fine-tune (the main figure), probes, k-NN.

    After training (and, with ``at_init``, before it: the untrained encoder) it takes the images of
    ``train_dataloader`` (the labelled set, e.g. 100 per class) and ``test_dataloader``, normalised
    by the model's preprocessor, and reports top-1 % on the test images of:

    * ``finetune``: a copy of the backbone plus a linear head on its image vector (a ViT's
      final-normed CLS token, a CNN's mean-pooled last feature map: :func:`image_features`), all
      trained with AdamW (cosine schedule, one warm-up epoch) for ``finetune_epochs`` epochs on the
      labelled images, each moved by up to ``shift`` pixels (edges replicated); the pretrained model
      is left as it was;
    * ``probe_cls`` (ViTs only) and ``probe_mean``: logistic regression on the frozen CLS token and on
      the mean of the patch tokens or of the feature map (as :class:`FAMTLinearProbeHook`);
    * ``knn``: cosine k-NN on the frozen image vector, ``knn_k`` neighbours voting with their
      similarity.

    The fine-tune draws from its own generator seeded with ``seed`` (default: the runner's seed), so
    training's random state is untouched and a run's evaluation is reproducible. Results are logged,
    added to the visualizer's scalars and written to ``few_label_eval.json`` in the work dir.
    Single-process training only (under DDP it says that it is skipped). The features are the
    algorithm's ``extract_feat`` of whole images (the fine-tune trains a copy of the algorithm through
    it, so a sparse CNN such as SparK's sees every position active), last output: ViT tokens with the
    CLS token first, or a CNN's feature map.

    Args:
        train_dataloader (dict): loader of the labelled images (no augmentation). A loader whose
            dataset gives no ``pipeline`` reads the whole image as the refresh hook scores it.
        test_dataloader (dict): loader of the held-out images.
        finetune_epochs (int): epochs of the fine-tune, >= 0 (0 skips it). Defaults to 30.
        shift (int): largest shift of the fine-tune's images in pixels, >= 0. Defaults to 4.
        lr (float): peak learning rate of the fine-tune, > 0. Defaults to 1e-3.
        weight_decay (float): AdamW weight decay, >= 0. Defaults to 0.05.
        batch_size (int): fine-tune batch size, >= 1. Defaults to 100.
        probe_c (float): inverse L2 strength of the logistic regressions, > 0. Defaults to 1.0.
        knn_k (int): neighbours of the k-NN, >= 1. Defaults to 10.
        at_init (bool): also evaluate the untrained encoder before training. Defaults to False.
        seed (int, optional): seed of the fine-tune's shuffling, shifts and head. Defaults to the
            runner's seed.
    """

    priority = 'LOW'

    def __init__(
        self,
        train_dataloader: dict,
        test_dataloader: dict,
        finetune_epochs: int = 30,
        shift: int = 4,
        lr: float = 1e-3,
        weight_decay: float = 0.05,
        batch_size: int = 100,
        probe_c: float = 1.0,
        knn_k: int = 10,
        at_init: bool = False,
        seed=None,
    ):
        for name, value, low in (
            ('finetune_epochs', finetune_epochs, 0),
            ('shift', shift, 0),
            ('batch_size', batch_size, 1),
            ('knn_k', knn_k, 1),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f'{name} must be an integer >= {low}, got {value!r}')
        for name, value in (('lr', lr), ('probe_c', probe_c)):
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f'{name} must be a number > 0, got {value!r}')
        if not (isinstance(weight_decay, (int, float)) and weight_decay >= 0):
            raise ValueError(f'weight_decay must be a number >= 0, got {weight_decay!r}')
        self.train_dataloader = train_dataloader
        self.test_dataloader = test_dataloader
        self.finetune_epochs = finetune_epochs
        self.shift = shift
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.probe_c = probe_c
        self.knn_k = knn_k
        self.at_init = at_init
        self.seed = seed
        self.results = {}
        self._data = None

    def before_train(self, runner) -> None:
        if get_world_size() > 1:
            runner.logger.warning('FAMTFewLabelEvalHook is skipped in distributed training')
            return
        if self.at_init and runner.epoch == 0:
            self.results['init'] = self.evaluate(runner)
            runner.logger.info(f'few-label evaluation before training: {self._text(self.results["init"])}')

    def after_train(self, runner) -> None:
        if get_world_size() > 1:
            return
        result = self.evaluate(runner)
        self.results.update(result, epochs=runner.epoch)
        runner.logger.info(f'few-label evaluation after {runner.epoch} epochs: {self._text(result)}')
        runner.visualizer.add_scalars(
            {f'few_label/{k}': v for k, v in result.items() if k.endswith('top1')}, step=runner.epoch
        )
        with open(osp.join(runner.work_dir, 'few_label_eval.json'), 'w') as f:
            json.dump(self.results, f, indent=2)

    @staticmethod
    def _text(result: dict) -> str:
        return ', '.join(f'{k} {v:.2f} %' for k, v in result.items() if k.endswith('top1'))

    @torch.no_grad()
    def _load(self, runner, loader_cfg: dict) -> Tuple[torch.Tensor, torch.Tensor]:
        model = unwrap_model(runner)
        inputs, labels = [], []
        loader_cfg = loader_with_whole_images(loader_cfg, runner, 'FAMTFewLabelEvalHook')
        for data in runner.build_dataloader(loader_cfg, seed=runner.seed):
            data = model.data_preprocessor(data, training=False)
            inputs.append(data['inputs'].float().cpu())
            labels.extend(int(s.gt_label) for s in data['data_samples'])
        return torch.cat(inputs), torch.tensor(labels)

    def data(self, runner):
        """The normalised labelled and test images with their labels (loaded once)."""
        if self._data is None:
            self._data = (
                *self._load(runner, self.train_dataloader),
                *self._load(runner, self.test_dataloader),
            )
        return self._data

    @torch.no_grad()
    def features(self, model, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
        """The frozen backbone's last output: (N, 1 + L, C) final-normed tokens or (N, C, h, w)."""
        device = next(model.parameters()).device
        return torch.cat(
            [
                model.extract_feat(images[i : i + batch].to(device))[-1].float().cpu()
                for i in range(0, len(images), batch)
            ]
        )

    def evaluate(self, runner) -> dict:
        model = unwrap_model(runner)
        train_x, train_y, test_x, test_y = self.data(runner)
        was_training = model.training
        model.eval()
        try:
            train_f, test_f = self.features(model, train_x), self.features(model, test_x)
        finally:
            model.train(was_training)
        if train_f.dim() not in (3, 4):
            raise ValueError(
                f'FAMTFewLabelEvalHook needs tokens (B, 1 + N, C) or a feature map (B, C, h, w) from '
                f'extract_feat, got shape {tuple(train_f.shape)}'
            )
        labels = train_y.numpy(), test_y.numpy()
        train_v, test_v = image_features(train_f), image_features(test_f)
        result = {}
        if train_f.dim() == 3:  # a CNN's image vector is already the pooled map
            result['probe_cls_top1'] = probe_top1(
                train_v.numpy(), labels[0], test_v.numpy(), labels[1], self.probe_c
            )
        result.update(
            probe_mean_top1=probe_top1(
                pooled_features(train_f).numpy(),
                labels[0],
                pooled_features(test_f).numpy(),
                labels[1],
                self.probe_c,
            ),
            knn_top1=knn_top1(train_v, train_y, test_v, test_y, self.knn_k),
        )
        if self.finetune_epochs:
            result['finetune_top1'] = self.finetune(runner, model, train_x, train_y, test_x, test_y)
        result.update(num_labelled=len(train_y), num_test=len(test_y))
        return result

    def finetune(self, runner, model, train_x, train_y, test_x, test_y) -> float:
        """Fine-tune a copy of the backbone with a linear head on its image vector; test top-1 %."""
        device = next(model.parameters()).device
        seed = runner.seed if self.seed is None else self.seed
        generator = torch.Generator().manual_seed(int(seed))
        # a copy of the algorithm, for its whole-image extract_feat; the preprocessor (and its
        # importance cache) is shared, not copied: the images come normalised already
        tuned = copy.deepcopy(model, memo={id(model.data_preprocessor): model.data_preprocessor})
        tuned.train()  # mmpretrain's ViT.train() returns None, so not chained
        embed_dims = image_features(self.features(model, train_x[:1])).shape[-1]
        num_classes = int(max(train_y.max(), test_y.max())) + 1
        head = nn.Linear(embed_dims, num_classes).to(device)
        with torch.no_grad():
            head.weight.copy_(torch.randn(head.weight.shape, generator=generator) * 0.01)
            head.bias.zero_()
        params = list(tuned.backbone.parameters()) + list(head.parameters())
        optimizer = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        steps_per_epoch = math.ceil(len(train_x) / self.batch_size)
        total, warmup = self.finetune_epochs * steps_per_epoch, steps_per_epoch
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda s: (
                (s + 1) / warmup
                if s < warmup
                else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup)))
            ),
        )
        for _ in range(self.finetune_epochs):
            order = torch.randperm(len(train_x), generator=generator)
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                images = random_shifts(train_x[idx], self.shift, generator).to(device)
                logits = head(image_features(tuned.extract_feat(images)[-1]))
                loss = F.cross_entropy(logits, train_y[idx].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
        tuned.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(test_x), 500):
                logits = head(image_features(tuned.extract_feat(test_x[start : start + 500].to(device))[-1]))
                correct += int((logits.argmax(1).cpu() == test_y[start : start + 500]).sum())
        return correct / len(test_y) * 100
