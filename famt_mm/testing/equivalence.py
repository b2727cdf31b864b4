"""Helpers that check a FAMT model against the stock mmpretrain model it extends."""

from typing import Callable, Optional, Tuple

import torch
from torch import nn

#: the stock models' preprocessor: FAMT's without the mask generator
STOCK_PREPROCESSOR = dict(type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3)


def stock_cfg(famt_cfg: dict, model_type: str, **parts: dict) -> dict:
    """Config of the stock model matching a tiny FAMT config.

    Args:
        famt_cfg (dict): The FAMT model config.
        model_type (str): The stock model's registry name, e.g. ``'MAE'``.
        **parts (dict): Per part (``backbone``, ``neck``...), the keys that differ from the FAMT
            part, e.g. ``backbone=dict(type='MAEViT', mask_ratio=0.75)``.
    """
    cfg = dict(famt_cfg, type=model_type, data_preprocessor=dict(STOCK_PREPROCESSOR))
    for name, change in parts.items():
        cfg[name] = dict(famt_cfg[name], **change)
    return cfg


def build_famt_and_stock(
    famt_cfg: dict, stock: dict, prepare: Optional[Callable[[nn.Module], None]] = None
) -> Tuple[nn.Module, nn.Module]:
    """Seeded FAMT model and the stock model holding the very same weights.

    Args:
        famt_cfg (dict): The FAMT model config.
        stock (dict): The stock model config (see :func:`stock_cfg`).
        prepare (callable, optional): Called on the FAMT model after ``init_weights`` and before
            its weights are copied, e.g. to set weights that make a mistake visible.
    """
    from mmpretrain.registry import MODELS

    torch.manual_seed(0)
    famt = MODELS.build(famt_cfg)
    famt.init_weights()
    if prepare is not None:
        with torch.no_grad():
            prepare(famt)
    stock_model = MODELS.build(stock)
    missing, unexpected = stock_model.load_state_dict(famt.state_dict(), strict=True)
    assert not missing and not unexpected
    return famt, stock_model


def assert_same_loss_and_grads(
    famt: nn.Module, famt_loss: torch.Tensor, stock: nn.Module, stock_loss: torch.Tensor, atol: float = 1e-6
) -> None:
    """Assert equal losses (rtol 1e-5), then back-propagate both and assert equal gradients
    (rtol 1e-4), parameter by parameter; a parameter without gradient must lack it in both."""
    assert torch.allclose(famt_loss, stock_loss, rtol=1e-5, atol=atol)
    stock_loss.backward()
    famt_loss.backward()
    stock_params = dict(stock.named_parameters())
    for name, param in famt.named_parameters():
        if param.grad is None:
            assert stock_params[name].grad is None, name
            continue
        assert torch.allclose(param.grad, stock_params[name].grad, rtol=1e-4, atol=atol), name


def replay_random_plan(seed: int, batch: int, length: int, n_visible: int):
    """The plan of a stock model that keeps the first ``n_visible`` of ``torch.rand(B, L).argsort``
    (MAE's ``random_masking``, SparK's active units), with the global seed set back to ``seed`` so
    that the stock model's own draw, made next, gives the very same index sets."""
    from ..core import MaskPlan

    torch.manual_seed(seed)
    order = torch.rand(batch, length).argsort(dim=1)
    torch.manual_seed(seed)
    return MaskPlan(visible=order[:, :n_visible], masked=order[:, n_visible:], thrown=order[:, :0])


def uncropped_samples(batch: int):
    """``batch`` data samples as the FAMT pipeline packs an uncropped view: ``sample_idx`` 0, 1, ...
    and a crop box that is the whole image."""
    from mmpretrain.structures import DataSample

    return [DataSample(metainfo=dict(sample_idx=i, crop_box=[0.0, 0.0, 1.0, 1.0])) for i in range(batch)]


def assert_gradient_by_role(per_patch: torch.Tensor, plan, masked_get_gradient: bool) -> None:
    """Check the (B, L) summed input gradient per patch against the plan: thrown patches get none,
    visible ones some, masked ones some exactly when their pixels reach the loss with gradient
    (MAE's pixel targets) and none when they enter as [MASK] tokens with targets made without
    gradient."""
    assert torch.all(per_patch.gather(1, plan.thrown) == 0)
    assert torch.all(per_patch.gather(1, plan.visible) > 0)
    masked = per_patch.gather(1, plan.masked)
    assert torch.all(masked > 0) if masked_get_gradient else torch.all(masked == 0)


def guided_batch(model: nn.Module, inputs, grid: Tuple[int, int], num_images: int = 4) -> dict:
    """``model`` in training mode with random stored maps (``grid`` per image, ``num_images``
    images), and its preprocessor's output for ``inputs`` (a tensor, or BEiT's / CAE's list of two
    pictures) as uncropped views of images 0, 1, ...: guided masking from the first batch."""
    model.train()
    model.data_preprocessor.importance_cache.set(torch.rand(num_images, *grid) + 0.1)
    batch = (inputs[0] if isinstance(inputs, (list, tuple)) else inputs).shape[0]
    return model.data_preprocessor(dict(inputs=inputs, data_samples=uncropped_samples(batch)), training=True)
