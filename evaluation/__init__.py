"""An evaluation that cannot flatter us: every method through the public ``HeartRateMonitor``.

``python -m evaluation`` (or ``nox -s evaluate``) measures each pulse method on

* a fixed, seeded, *realistic* semi-synthetic suite (:mod:`evaluation.suite`): small faces
  upscaled from low-resolution sources, grey near-infrared files, tinted in-band flicker,
  darker skin from a physical skin model, low-bitrate video, head motion, no pulse. The suite
  has a ``tune`` part (faces and seeds the SDK's constants may be fitted on) and a ``holdout``
  part (other faces, other seeds) that is only ever reported;
* every real recording in ``../shared/data/real`` (:mod:`evaluation.real`): the skin-patch
  videos of darker-skinned subjects and the real face video through the monitor, the oximetry
  and WFDB traces through the DSP API,

and prints one table per condition (:mod:`evaluation.report`). Readings go through video files
and ``HeartRateMonitor.process_video`` exactly as a user's would.

This package is a consumer of the SDK (like ``training/`` and ``deploy/``): the runtime never
imports it.
"""
