"""The per-epoch metrics log of a run: ``metrics.csv`` (one row per epoch) and its plot."""

from __future__ import annotations

import csv
import datetime
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from training.files import atomic_path

__all__ = ["append_csv", "format_row", "plot_metrics", "read_csv"]


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """The rows of a metrics CSV (empty when the file does not exist yet)."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def append_csv(path: str | Path, row: Mapping[str, Any]) -> None:
    """Add one row; columns that appear later widen the header (earlier rows leave them empty).

    The file is rewritten whole through a unique temporary file, so a crash mid-write leaves the
    previous version.
    """
    rows: list[dict[str, Any]] = list(read_csv(path))
    rows.append({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def format_row(row: Mapping[str, Any]) -> str:
    """One console line for an epoch's row, time-stamped."""
    body = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
    return f"[{datetime.datetime.now():%H:%M:%S}] {body}"


def plot_metrics(csv_path: str | Path, png_path: str | Path) -> None:
    """Loss, heart-rate error and IPR per epoch, from ``metrics.csv``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_csv(csv_path)
    if not rows:
        return

    def col(k: str) -> list[float]:
        return [float(r[k]) if r.get(k) not in (None, "", "nan") else math.nan for r in rows]

    ep = col("epoch")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for k in ("train_loss", "val_loss"):
        axes[0].plot(ep, col(k), marker="o", label=k)
    axes[0].set_title("loss")
    for k in ("val_mae_bpm", "val_rmse_bpm"):
        axes[1].plot(ep, col(k), marker="o", label=k)
    axes[1].set_title("heart-rate error (bpm)")
    axes[2].plot(ep, col("val_ipr"), marker="o", label="val_ipr")
    axes[2].set_title("irrelevant power ratio")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
