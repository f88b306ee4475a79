"""Subject-wise k-fold splits: no person is in both the training and the test side of a fold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["subject_kfold"]


def subject_kfold(
    subject_ids: Sequence[str], n_folds: int, fold: int, *, seed: int = 0
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Indices ``(train, test)`` of fold ``fold`` of a subject-wise ``n_folds``-fold split.

    Subjects (not videos) are shuffled with ``seed`` and dealt into ``n_folds`` groups of
    near-equal size; fold ``k`` tests on group ``k`` and trains on the rest. The same seed gives
    the same folds on every machine.

    Parameters
    ----------
    subject_ids
        Subject of each video.
    n_folds
        Number of folds, ``2 <= n_folds <= number of subjects``.
    fold
        Which fold, ``0 <= fold < n_folds``.
    """
    if not isinstance(n_folds, int) or isinstance(n_folds, bool):
        raise TypeError(f"n_folds: expected an int, got {type(n_folds).__name__}")
    if not isinstance(fold, int) or isinstance(fold, bool):
        raise TypeError(f"fold: expected an int, got {type(fold).__name__}")
    subjects = sorted(set(subject_ids))
    if not 2 <= n_folds <= len(subjects):
        raise ValueError(
            f"n_folds: expected 2 <= n_folds <= {len(subjects)} (the number of subjects), "
            f"got {n_folds}"
        )
    if not 0 <= fold < n_folds:
        raise ValueError(f"fold: expected 0 <= fold < {n_folds}, got {fold}")
    order = np.random.default_rng(seed).permutation(len(subjects))
    groups = np.array_split(order, n_folds)
    test_subjects = {subjects[i] for i in groups[fold]}
    is_test = np.array([s in test_subjects for s in subject_ids], dtype=bool)
    return np.flatnonzero(~is_test).astype(np.int64), np.flatnonzero(is_test).astype(np.int64)
