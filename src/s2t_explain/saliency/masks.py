"""Mask families: each only decides which units (segments, frame blocks...) a mask occludes.

A family has one or more *groups* (granularities or block scales). A group maps every element
of the explained array (spectrogram entries (T, F), encoder frames (T',), ...) to a unit index
via ``labels``; a mask of that group is a boolean vector over its units. Mask k belongs to group
k mod n_groups, so any prefix of masks is balanced over groups.

Designs (how unit occlusions are drawn; ours except iid):
- ``iid``: each unit occluded independently with probability p (the paper);
- ``balanced``: exactly floor(p * n_units + 0.5) units occluded, chosen uniformly at random;
- ``antithetic``: balanced masks in complementary pairs (m, not m) for p = 0.5.
Randomness comes from one generator per chunk of masks, seeded by (seed, stream, chunk), so the
masks do not depend on the batch size. A family caches one chunk; it is not meant to be shared
between threads.

Families are registered by the option value that selects them: ``INPUT_MASKS`` (over the
spectrogram, ``InputSaliencyOptions.masks``) and ``ENCODER_MASKS`` (over encoder states,
``EncoderSaliencyOptions.mode``). Each builds itself from its options with ``from_options``, so a
new family is one registered class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import OptionError
from ..registry import Registry
from .segmentation import scaled_segment_counts, slic_segments

if TYPE_CHECKING:
    from .options import EncoderSaliencyOptions, InputSaliencyOptions

CHUNK_CYCLES = 16  # masks per generator = 2 * n_groups * CHUNK_CYCLES (antithetic pairs stay in a chunk)
DESIGNS = ("iid", "balanced", "antithetic")


def check_design(design: str, p: float) -> None:
    """Raise OptionError for an unknown design or an antithetic design with p != 0.5."""
    if design not in DESIGNS:
        raise OptionError(f"unknown mask design {design!r}; use one of: {', '.join(DESIGNS)}")
    if design == "antithetic" and abs(p - 0.5) > 1e-9:
        raise OptionError("antithetic masks need p = 0.5 (a mask and its complement)")


@dataclass(frozen=True)
class Group:
    labels: np.ndarray  # element -> unit index, shape = the explained array's shape
    n_units: int
    name: str


class MaskFamily:
    """Draws unit-level masks for its groups; subclasses only build the groups."""

    # False where every element is its own unit: the joint regression estimators cannot fit that
    supports_joint_fit: ClassVar[bool] = True

    def __init__(self, groups: list[Group], p: float, design: str, seed: int, stream: int) -> None:
        check_design(design, p)
        self.groups, self.p, self.design, self.seed, self.stream = groups, p, design, seed, stream
        self.chunk = 2 * len(groups) * CHUNK_CYCLES  # fixed: results do not depend on batch size
        self._cache: tuple[int, list[np.ndarray]] | None = None

    @property
    def element_shape(self) -> tuple[int, ...]:
        return tuple(self.groups[0].labels.shape)

    def group_of(self, k: int) -> int:
        return k % len(self.groups)

    def unit_mask(self, k: int) -> np.ndarray:
        """Occlusion of the units of mask k's group, shape (n_units,) bool."""
        chunk, offset = divmod(k, self.chunk)
        cache = self._cache
        if cache is None or cache[0] != chunk:
            cache = (chunk, self._draw_chunk(chunk))
            self._cache = cache
        return cache[1][offset]

    def _draw_chunk(self, chunk: int) -> list[np.ndarray]:
        rng = np.random.default_rng([self.seed, self.stream, chunk])
        out = []
        for k in range(chunk * self.chunk, (chunk + 1) * self.chunk):
            n = self.groups[self.group_of(k)].n_units
            if self.design == "iid":
                out.append(rng.random(n) < self.p)
            elif self.design == "antithetic" and k % (2 * len(self.groups)) >= len(self.groups):
                out.append(~out[-len(self.groups)])  # complement of the mask one cycle earlier
            else:
                m = np.zeros(n, dtype=bool)
                m[rng.permutation(n)[: int(np.floor(self.p * n + 0.5))]] = True  # round half up
                out.append(m)
        return out

    def element_mask(self, k: int) -> np.ndarray:
        """Occlusion of every element for mask k, shape ``element_shape`` bool."""
        group = self.groups[self.group_of(k)]
        return self.unit_mask(k)[group.labels]

    def reported(self, values: np.ndarray) -> np.ndarray:
        """The map reported for estimates over this family's elements, (I, *element_shape): itself."""
        return values


INPUT_MASKS: Registry[Any] = Registry("input mask family")  # classes with from_options(spectrogram, options, seed)
ENCODER_MASKS: Registry[Any] = Registry("encoder mask mode")  # classes with from_options((T', D), options, seed)


def list_mask_families() -> dict[str, list[str]]:
    """{"input": SM_X mask families, "encoder": SM_H mask families (``EncoderSaliencyOptions.mode``)}."""
    return {"input": INPUT_MASKS.names(), "encoder": ENCODER_MASKS.names()}


def list_mask_designs() -> list[str]:
    return list(DESIGNS)


@dataclass(frozen=True)
class Slic:
    """How SLIC segments the spectrogram (the defaults of ``InputSaliencyOptions``, which documents them)."""

    compactness: float = 0.1
    sigma: float = 0.0
    reference_frames: int = 500
    max_scale_frames: int = 750


@INPUT_MASKS.register("superpixels")
class SuperpixelMasks(MaskFamily):
    """SPES: SLIC superpixels of the (T, F) spectrogram at several granularities."""

    def __init__(self, features: np.ndarray, granularities: tuple[int, ...], p: float, design: str = "iid",
                 seed: int = 0, slic: Slic | None = None) -> None:
        s = slic or Slic()
        counts = scaled_segment_counts(granularities, features.shape[0], s.reference_frames, s.max_scale_frames)
        groups = []
        for asked, g in zip(counts, granularities):
            labels = slic_segments(features, asked, s.compactness, s.sigma)
            groups.append(Group(labels, int(labels.max()) + 1, f"slic{g}"))
        super().__init__(groups, p, design, seed, stream=0)

    @classmethod
    def from_options(cls, spectrogram: np.ndarray, o: InputSaliencyOptions, seed: int) -> SuperpixelMasks:
        """SLIC of the (T, F) spectrogram at ``o.granularities``."""
        return cls(spectrogram, o.granularities, o.p, o.design, seed,
                   Slic(o.compactness, o.sigma, o.reference_frames, o.max_scale_frames))


@INPUT_MASKS.register("grid")
class GridMasks(MaskFamily):
    """Rectangular patches of the (T, F) spectrogram, one group per patch size (frames, bins) (ours)."""

    def __init__(self, shape: tuple[int, int], patch_sizes: tuple[tuple[int, int], ...], p: float,
                 design: str = "iid", seed: int = 0) -> None:
        t, f = shape
        groups = []
        for pt, pf in patch_sizes:
            rows, cols = np.arange(t)[:, None] // pt, np.arange(f)[None, :] // pf
            n_cols = -(-f // pf)
            labels = (rows * n_cols + cols).astype(np.int32)
            groups.append(Group(labels, int(labels.max()) + 1, f"grid{pt}x{pf}"))
        super().__init__(groups, p, design, seed, stream=0)

    @classmethod
    def from_options(cls, spectrogram: np.ndarray, o: InputSaliencyOptions, seed: int) -> GridMasks:
        """Patches of ``o.patch_sizes`` over the (T, F) spectrogram."""
        return cls(spectrogram.shape, o.patch_sizes, o.p, o.design, seed)


@ENCODER_MASKS.register("frames")
class FrameBlockMasks(MaskFamily):
    """Encoder frames (T',) in contiguous blocks of each size (ours)."""

    def __init__(self, n_frames: int, block_sizes: tuple[int, ...], p: float, design: str = "iid",
                 seed: int = 0) -> None:
        frames = np.arange(n_frames)
        groups = [Group((frames // b).astype(np.int32), -(-n_frames // b), f"block{b}") for b in block_sizes]
        super().__init__(groups, p, design, seed, stream=1)

    @classmethod
    def from_options(cls, shape: tuple[int, int], o: EncoderSaliencyOptions, seed: int) -> FrameBlockMasks:
        """Whole encoder frames (of the (T', D) states) in blocks of ``o.block_sizes``."""
        return cls(shape[0], o.block_sizes, o.p, o.design, seed)


class ElementMasks(MaskFamily):
    """Every entry of a 2-D array is its own unit (token masks (1, I); encoder entries (T', D))."""

    supports_joint_fit = False

    def __init__(self, shape: tuple[int, int], p: float, design: str = "iid", seed: int = 0) -> None:
        labels = np.arange(shape[0] * shape[1], dtype=np.int32).reshape(shape)
        super().__init__([Group(labels, labels.size, "elements")], p, design, seed, stream=2)


@ENCODER_MASKS.register("elements")
class EncoderElementMasks(ElementMasks):
    """Single entries of the (T', D) encoder states; the reported map is the mean over D, (I, T')."""

    @classmethod
    def from_options(cls, shape: tuple[int, int], o: EncoderSaliencyOptions, seed: int) -> EncoderElementMasks:
        return cls(shape, o.p, o.design, seed)

    def reported(self, values: np.ndarray) -> np.ndarray:
        """(I, T', D) -> (I, T'): mean over the state dimension."""
        return values.mean(axis=-1)
