"""Argument checks shared by the local dataset readers."""

from typing import Iterable


def check_split_and_root(dataset: str, split: str, splits: Iterable[str], data_root: str, holds: str) -> None:
    """ValueError naming the setting unless ``split`` is one of ``splits`` and ``data_root`` is set.

    Args:
        dataset (str): the reader's name, for the message.
        split (str): the split asked for.
        splits (Iterable[str]): the reader's splits.
        data_root (str): the folder given.
        holds (str): what ``data_root`` must be, e.g. ``'the folder that holds stl10_binary/'``.
    """
    splits = tuple(splits)
    if split not in splits:
        raise ValueError(f'{dataset}: split must be one of {splits}, got {split!r}')
    if not data_root:
        raise ValueError(f'{dataset}: set data_root to {holds}')
