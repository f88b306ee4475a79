"""A two-layer physical skin model: skin colour and its pulse from melanin and blood.

Skin is an epidermis (melanin) over a dermis (blood in a scattering matrix). Light that is not
reflected at the surface crosses the epidermis, is diffusely back-scattered by the dermis, and
crosses the epidermis again (Beer-Lambert both ways)::

    R(lambda) = r_s + (1 - r_s) * T_epi(lambda)**2 * R_derm(lambda, B)
    T_epi     = exp(-d_epi * (f_mel * mua_mel + (1 - f_mel) * mua_base))
    R_derm    = exp(-A / sqrt(3 * (1 + mus' / mua_derm)))          (diffusion approximation)
    mua_derm  = B * mua_blood(S) + (1 - B) * mua_base

The pulse is a change of the dermal blood volume ``B``. Its relative amplitude in a channel is
``d ln R / d ln B = (d ln R_derm / d ln B) * (1 - r_s / R)``: light that reaches the blood must
cross the melanin twice, so in darker skin less of the returned light carries the pulse and the
constant surface reflection dilutes it more, most in blue and green where melanin absorbs most.
Darker skin therefore pulses more weakly, in absolute and in relative terms, and its
blood-volume-pulse direction turns towards red.

Constants and sources
---------------------
- Melanin absorption ``mua_mel = 519 * (lambda / 500 nm) ** -3.5`` cm^-1 (Jacques 2013,
  "Optical properties of biological tissues: a review", Phys. Med. Biol. 58 R37).
- Melanin volume fraction of the epidermis per Fitzpatrick type: I 2 %, II 5 %, III 10 %,
  IV 16 %, V 25 %, VI 40 % (Jacques 1998 "Skin optics" (OMLC): light adults 1.3-6.3 %,
  moderately pigmented 11-16 %, darkly pigmented 18-43 %).
- Epidermis thickness ``d_epi`` 80 um (60-100 um on the face and body); tissue baseline
  absorption ``mua_base = 7.84e7 * lambda_nm ** -3.255`` cm^-1 (Jacques 1998).
- Haemoglobin molar extinction (cm^-1/M) at the camera band centres, Prahl's tabulation
  (OMLC, from Gratzer and Kollias): 460 nm HbO2 44480 / Hb 33209; 540 nm 53236 / 46592;
  610 nm 1506 / 9444; 850 nm 1058 / 691. Whole blood 150 g/L haemoglobin (64 500 g/mol),
  dermal saturation ``S`` 75 % (a mix of arterial and venous blood),
  ``mua_blood = ln(10) * eps * 150 / 64500``.
- Dermal blood volume fraction ``B`` 0.6 % of the tissue the light samples (Jacques' reviews:
  0.2-7 % by depth; 0.6 % gives fair skin the colour of fair skin).
- Reduced scattering of the dermis ``mus' = 46 * (lambda / 500 nm) ** -1.42`` cm^-1 (Jacques
  2013, skin average); diffuse reflectance of a semi-infinite medium
  ``exp(-A / sqrt(3 (1 + mus'/mua)))`` with ``A = 7`` (Jacques 1998, from diffusion theory).
- Surface (Fresnel) reflection ``r_s`` 4 % (skin's refractive index ~1.4-1.5).
- Camera band centres B 460 nm, G 540 nm, R 610 nm; near infrared 850 nm.

The model reflectances are linear; pixel values are their sRGB encoding, and the relative pulse
in pixel values is the linear one times the encoding's local log-slope.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from rppg_sdk.synthetic._checks import _check_int

__all__ = ["FITZPATRICK_MELANIN_FRACTION", "REFERENCE_FITZPATRICK", "SkinModel", "skin_model"]

#: Epidermal melanin volume fraction per Fitzpatrick skin type (index 1..6).
FITZPATRICK_MELANIN_FRACTION: dict[int, float] = {
    1: 0.02,
    2: 0.05,
    3: 0.10,
    4: 0.16,
    5: 0.25,
    6: 0.40,
}

_WAVELENGTH_NM = {"B": 460.0, "G": 540.0, "R": 610.0, "NIR": 850.0}
# (HbO2, Hb) molar extinction in cm^-1/M at the band centres (Prahl).
_EPSILON_HB = {
    460.0: (44480.0, 33209.2),
    540.0: (53236.0, 46592.0),
    610.0: (1506.0, 9443.6),
    850.0: (1058.0, 691.32),
}
_HB_G_PER_L = 150.0
_HB_G_PER_MOL = 64500.0
_SATURATION = 0.75
_BLOOD_FRACTION = 0.006
_EPIDERMIS_CM = 0.008
_SURFACE_REFLECTION = 0.04
_DIFFUSION_A = 7.0


def _mua_melanin(nm: float) -> float:
    return 519.0 * math.pow(nm / 500.0, -3.5)


def _mua_base(nm: float) -> float:
    return 7.84e7 * math.pow(nm, -3.255)


def _mua_blood(nm: float) -> float:
    oxy, deoxy = _EPSILON_HB[nm]
    eps = _SATURATION * oxy + (1.0 - _SATURATION) * deoxy
    return math.log(10.0) * eps * _HB_G_PER_L / _HB_G_PER_MOL


def _musp(nm: float) -> float:
    return 46.0 * math.pow(nm / 500.0, -1.42)


def _reflectance(nm: float, melanin: float, blood: float) -> float:
    mua_derm = blood * _mua_blood(nm) + (1.0 - blood) * _mua_base(nm)
    r_derm = math.exp(-_DIFFUSION_A / math.sqrt(3.0 * (1.0 + _musp(nm) / mua_derm)))
    mua_epi = melanin * _mua_melanin(nm) + (1.0 - melanin) * _mua_base(nm)
    t2 = math.exp(-2.0 * _EPIDERMIS_CM * mua_epi)
    return _SURFACE_REFLECTION + (1.0 - _SURFACE_REFLECTION) * t2 * r_derm


def _relative_pulse(nm: float, melanin: float) -> float:
    """``d ln R / d ln B`` (negative: more blood, less light), by central difference."""
    h = 1e-3 * _BLOOD_FRACTION
    up = _reflectance(nm, melanin, _BLOOD_FRACTION + h)
    down = _reflectance(nm, melanin, _BLOOD_FRACTION - h)
    return (math.log(up) - math.log(down)) / (2.0 * h) * _BLOOD_FRACTION


def _srgb(linear: float) -> float:
    """sRGB encoding of a linear value in [0, 1]."""
    x = min(max(linear, 0.0), 1.0)
    return 12.92 * x if x <= 0.0031308 else 1.055 * x ** (1 / 2.4) - 0.055


def _srgb_log_slope(linear: float) -> float:
    """``d ln srgb(x) / d ln x``: how a relative change of light shows in pixel values."""
    h = 1e-4 * linear
    return (math.log(_srgb(linear + h)) - math.log(_srgb(linear - h))) / (
        math.log(linear + h) - math.log(linear - h)
    )


@dataclass(frozen=True)
class SkinModel:
    """Colour and pulse of one skin type under white light, from the two-layer model.

    Attributes
    ----------
    fitzpatrick
        Skin type, 1-6.
    melanin_fraction
        Epidermal melanin volume fraction.
    reflectance_rgb
        Linear diffuse-plus-surface reflectance at the R, G, B band centres.
    reflectance_nir
        The same at 850 nm.
    pixel_bgr
        The skin's 8-bit sRGB value under white light that would give a white reflector 255.
    pixel_nir
        The 8-bit value of the skin in a near-infrared camera (same encoding).
    pulse_rgb
        Relative change of the R, G, B *pixel values* per relative change of dermal blood
        volume (negative: blood absorbs). Its direction is the blood-volume-pulse direction.
    pulse_nir
        The same for the near-infrared pixel value.
    """

    fitzpatrick: int
    melanin_fraction: float
    reflectance_rgb: tuple[float, float, float]
    reflectance_nir: float
    pixel_bgr: tuple[float, float, float]
    pixel_nir: float
    pulse_rgb: tuple[float, float, float]
    pulse_nir: float

    @property
    def bvp_direction_rgb(self) -> tuple[float, float, float]:
        """Unit blood-volume-pulse direction in (R, G, B), sign flipped to positive."""
        norm = math.sqrt(sum(p * p for p in self.pulse_rgb))
        r, g, b = (-p / norm for p in self.pulse_rgb)
        return (r, g, b)


@functools.lru_cache(maxsize=8)
def skin_model(fitzpatrick: int) -> SkinModel:
    """The two-layer model's colour and pulse for a Fitzpatrick skin type (1-6).

    Examples
    --------
    >>> light, dark = skin_model(1), skin_model(6)
    >>> abs(dark.pulse_rgb[1]) < abs(light.pulse_rgb[1])
    True
    """
    kind = _check_int("fitzpatrick", fitzpatrick, 1, 6)
    melanin = FITZPATRICK_MELANIN_FRACTION[kind]
    nms = [_WAVELENGTH_NM[c] for c in ("R", "G", "B", "NIR")]
    refl = [_reflectance(nm, melanin, _BLOOD_FRACTION) for nm in nms]
    pulse = [
        _relative_pulse(nm, melanin) * _srgb_log_slope(r) for nm, r in zip(nms, refl, strict=True)
    ]
    pixels = [255.0 * _srgb(r) for r in refl]
    return SkinModel(
        fitzpatrick=kind,
        melanin_fraction=melanin,
        reflectance_rgb=(refl[0], refl[1], refl[2]),
        reflectance_nir=refl[3],
        pixel_bgr=(pixels[2], pixels[1], pixels[0]),
        pixel_nir=pixels[3],
        pulse_rgb=(pulse[0], pulse[1], pulse[2]),
        pulse_nir=pulse[3],
    )


#: Skin type whose green pixel pulse ``SyntheticClipSpec.pulse_amplitude`` names when a
#: ``fitzpatrick`` type is rendered: other types pulse by the model's ratio to it.
REFERENCE_FITZPATRICK: int = 2
