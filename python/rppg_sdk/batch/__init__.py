"""``rppg-sdk batch``: video archives measured on a process pool or a Ray cluster, to Parquet.

One concept per module:

- :mod:`~rppg_sdk.batch.inputs`: the videos (a folder walk, a CSV / JSONL manifest with
  per-video metadata).
- :mod:`~rppg_sdk.batch.segments`: long videos in overlapping segments, stitched back into what
  one pass gives; the worker-side task.
- :mod:`~rppg_sdk.batch.records`: the Parquet tables and JSON records, written atomically.
- :mod:`~rppg_sdk.batch.engines`: where tasks run (local process pool, Ray).
- :mod:`~rppg_sdk.batch.runner`: a run (resume, errors, progress, dry run).

Ray and pyarrow come with ``pip install "rppg-sdk[batch]"``; they are imported only when used.

>>> from rppg_sdk.batch import BatchConfig, run_batch            # doctest: +SKIP
>>> report = run_batch(BatchConfig(source="videos/", out_dir="out/"))
>>> report.counts
{'ok': 12, 'corrupt': 1}
"""

from rppg_sdk.batch.inputs import VideoItem, discover_inputs
from rppg_sdk.batch.runner import BatchConfig, BatchReport, DryRunReport, dry_run, run_batch

__all__ = [
    "BatchConfig",
    "BatchReport",
    "DryRunReport",
    "VideoItem",
    "discover_inputs",
    "dry_run",
    "run_batch",
]
