"""Semi-synthetic face video with a known heart rate.

A real face picture is made to pulse the way skin does under a camera, then moved, lit and
recorded like a real clip. Used by ``rppg-sdk demo``, the end-to-end tests, the evaluation and
training. One concern per module:

- :mod:`~rppg_sdk.synthetic.spec`: what to render (:class:`SyntheticClipSpec`) and the result.
- :mod:`~rppg_sdk.synthetic.pulse`: the blood-volume pulse and its true rate.
- :mod:`~rppg_sdk.synthetic.skin`: the two-layer physical skin model (melanin, blood) that gives
  each Fitzpatrick type its colour and its pulse amplitude and direction.
- :mod:`~rppg_sdk.synthetic.faces`: the face pictures, their face boxes and skin masks.
- :mod:`~rppg_sdk.synthetic.camera`: exposure steps, JPEG stills and video codecs.
- :mod:`~rppg_sdk.synthetic.render`: scene, motion, light and frames.

The physics, step by step (every step is vectorised numpy / OpenCV on float32 images):

1. **Blood-volume pulse.** A beat-by-beat waveform with heart-rate variability
   (:func:`physiological_ppg`), or a recorded PPG (``ppg_waveform``).
2. **Face.** A named face (``face``) or any picture (``face_image``), optionally shrunk to
   ``source_face_px`` rows (a low-resolution source) and then enlarged so its face box is
   ``face_height_px`` tall in the frame.
3. **Skin reflectance.** More blood absorbs more light, so the diffuse skin colour drops along
   the blood-volume-pulse direction by ``pulse_amplitude`` (0.3-1 % of green). Without
   ``fitzpatrick`` the picture keeps its colours and the direction is
   :data:`BVP_DIRECTION_RGB`; with it, the skin takes the colour and the per-channel pulse of
   the physical skin model (:mod:`~rppg_sdk.synthetic.skin`), so darker skin pulses more weakly
   and more in red. Only skin pulses: a soft mask (skin colour in YCrCb inside the face,
   matched to the cheeks and nose, feathered) is built once; a smooth random gain map makes
   some skin pulse more than other skin; near-saturated (specular) pixels do not pulse.
4. **Near-infrared.** With ``near_infrared`` the face is rendered grey (a red-weighted luminance,
   or the model's 850 nm reflectance) and pulses :data:`NIR_PULSE_RATIO` times as strongly as
   green (the skin model's ratio), stored as one channel or three identical ones.
5. **Motion.** The pulsing face layer (head and shoulders with a feathered silhouette) is warped
   every frame over a static background: ``rigid`` drift and repositioning, ``periodic``
   nodding, ``talking`` quasi-periodic bobbing (``motion_hz`` may lie in the heart-rate band).
6. **Light.** Illumination multiplies the whole frame, skin and background alike: a slow drift
   and an optional flicker (``flicker_hz``, ``flicker_amplitude``, tinted by
   ``flicker_tint_bgr``).
7. **Camera.** Auto-exposure / white-balance steps (``exposure_steps``); Gaussian sensor noise
   added in float before rounding (it dithers the quantiser: a 0.6 % pulse on skin at ~150 is
   about one 8-bit level); then the codec: JPEG stills per frame, or a real video codec
   (MJPEG, MPEG-4, H.264 at a bitrate) over the whole clip (:func:`render_to_file`).

Everything random comes from ``seed`` through independent streams (pulse, motion, light, scene,
noise per frame, camera), so switching ``pulse`` off changes nothing but the pulse, and any
frame can be rendered on its own: :func:`iter_frames` and :func:`render_clip` give identical
frames. :func:`clip_truth` gives the truth without rendering.

Optional dependencies: scikit-image (the named faces) and PyAV (H.264), both in
``pip install "rppg-sdk[demo]"``; they are imported only when used.
"""

from __future__ import annotations

from rppg_sdk.synthetic.faces import available_faces
from rppg_sdk.synthetic.pulse import physiological_ppg
from rppg_sdk.synthetic.render import (
    BVP_DIRECTION_RGB,
    NIR_PULSE_RATIO,
    clip_truth,
    iter_frames,
    render_clip,
    render_to_file,
    write_video,
)
from rppg_sdk.synthetic.skin import FITZPATRICK_MELANIN_FRACTION, SkinModel, skin_model
from rppg_sdk.synthetic.spec import (
    CODECS,
    DEFAULT_MOTION_FRACTION,
    FLICKER_RELATIVE_AMPLITUDE,
    ClipTruth,
    SyntheticClip,
    SyntheticClipSpec,
)

__all__ = [
    "BVP_DIRECTION_RGB",
    "CODECS",
    "DEFAULT_MOTION_FRACTION",
    "FITZPATRICK_MELANIN_FRACTION",
    "FLICKER_RELATIVE_AMPLITUDE",
    "NIR_PULSE_RATIO",
    "ClipTruth",
    "SkinModel",
    "SyntheticClip",
    "SyntheticClipSpec",
    "available_faces",
    "clip_truth",
    "iter_frames",
    "physiological_ppg",
    "render_clip",
    "render_to_file",
    "skin_model",
    "write_video",
]
