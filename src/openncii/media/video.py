"""Decode video files into the RGB frames that vPDQ hashes.

Why this module looks the way it does:

- **Same frames as the reference.** A vPDQ hash is only useful if a partner running Meta's
  reference hasher (facebook/ThreatExchange ``vpdq``) gets the same frame hashes from the same
  file. So we sample frames the way it does: frames are numbered in the order the decoder
  outputs them (0-based); at ``fps`` frames per second, every ``int(seconds_per_hash *
  frame_rate)``-th frame is kept (at least every frame), where ``seconds_per_hash = 1 / fps``
  and the frame rate is the stream's average frame rate (falling back to its real base rate).
  ``fps=0`` keeps every frame. The timestamp is the reference's too: the frame number divided
  by the frame rate in 32-bit floats, not the packet time stamp.
- **Same pixels as the reference.** It converts each decoded frame with libswscale to packed
  RGB24 at the stream's size (``SWS_AREA``, BT.601 coefficients, range from the pixel format),
  and hashes it without row padding. PyAV's ``to_ndarray`` drops the row padding of the
  FFmpeg buffer, so odd or padded sizes (the reference's ``test-padded-dimensions.mp4``) give
  the reference's hashes bit for bit.
- **Hostile files.** People upload what they have, and attackers upload what they like. Every
  FFmpeg failure becomes a :class:`~openncii.errors.MediaError` with a plain sentence; frames
  larger than :data:`MAX_FRAME_PIXELS` are refused before they are decoded (the decoder's
  ``max_pixels`` guard catches size changes mid-stream), a container index that points past the
  end of the file is reported as truncated, and decoding stops after :data:`MAX_VIDEO_FRAMES`
  frames, so a small file cannot make us decode without end.
- **Quiet.** FFmpeg logs to stderr by default; PyAV (13 and later) routes its messages to a
  no-op callback when no level is set. We only make sure of that on first use and never
  override a level someone chose, so importing this module changes no global state.

Containers are opened and closed inside the generator: exhausting it, an error, or closing it
(``contextlib.closing``) releases the file at once.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av
import av.error
import av.logging
import numpy as np
import numpy.typing as npt

from openncii.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError

__all__ = [
    "MAX_FRAME_PIXELS",
    "MAX_VIDEO_FRAMES",
    "VideoFrame",
    "frame_step",
    "iter_video_frames",
    "reference_timestamp",
]

#: Largest frame we decode, in pixels: 8K UHD (7680 x 4320). Phones record 4K at most.
MAX_FRAME_PIXELS: Final = 7680 * 4320
#: Most frames we decode from one file: over 4.5 hours at 30 frames per second.
MAX_VIDEO_FRAMES: Final = 500_000

_RGB_FORMAT: Final = "rgb24"
# The reference's libswscale flag (it scales with SWS_AREA when it scales at all).
_INTERPOLATION: Final = "AREA"
# Pixel formats whose conversion depends on the YUV matrix and range.
_YUV_PREFIXES: Final = ("yuv", "nv")

# PyAV raises these as both FFmpegError and the built-in OSError: let them through as they are.
_FILE_ACCESS_ERRORS: Final = (PermissionError, FileNotFoundError, IsADirectoryError)

_quiet_checked = False


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One sampled video frame.

    ``index`` is the 0-based frame number in decode order, as the vPDQ reference numbers frames;
    ``timestamp`` is in seconds (``index / frame_rate``, as the reference computes it); ``rgb``
    is a read-only ``(H, W, 3)`` uint8 array.
    """

    index: int
    timestamp: float
    rgb: npt.NDArray[np.uint8]


def frame_step(fps: float, frame_rate: float) -> int:
    """How many frames apart the samples are at ``fps`` frames per second (the reference rule).

    ``fps=0`` means every frame. The reference takes seconds per hash and truncates
    ``seconds_per_hash * frame_rate`` to an integer, at least 1: at one frame per second a
    29.97 fps video keeps frames 0, 29, 58, ...
    """
    if not math.isfinite(fps) or fps < 0:
        raise ValueError("frames per second must be a finite number >= 0 (0 = every frame)")
    if fps == 0:
        return 1
    return max(1, int((1.0 / fps) * frame_rate))


def reference_timestamp(index: int, frame_rate: float) -> float:
    """The reference's frame time: ``index / frame_rate`` computed in 32-bit floats."""
    return float(np.float32(index) / np.float32(frame_rate))


def iter_video_frames(
    path: Path,
    fps: float = 1.0,
    *,
    max_frames: int = MAX_VIDEO_FRAMES,
    max_frame_pixels: int = MAX_FRAME_PIXELS,
) -> Generator[VideoFrame, None, None]:
    """Decode the first video track of ``path`` and yield the sampled frames as RGB.

    ``fps`` frames per second are sampled the way the vPDQ reference samples them (``0``: every
    frame). Raises :class:`~openncii.errors.CorruptMediaError` (empty, truncated or malformed),
    :class:`~openncii.errors.UnsupportedMediaError` (no video track, unknown codec) or
    :class:`~openncii.errors.MediaTooLargeError` (frames above ``max_frame_pixels``, more than
    ``max_frames`` frames); :class:`ValueError` for a negative or non-finite ``fps``.
    """
    frame_step(fps, 1.0)  # validate before touching the file
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if not path.is_file():
        raise UnsupportedMediaError(
            "not a regular file (a folder, device or pipe cannot be hashed)"
        )
    if path.stat().st_size == 0:
        raise CorruptMediaError("the file is empty (0 bytes)")
    _ensure_quiet_ffmpeg()
    try:
        # No max_pixels here: the probe must report the claimed size so we can refuse it.
        container = av.open(str(path), mode="r", metadata_errors="replace")
    except _FILE_ACCESS_ERRORS:
        raise  # the file system said no (permissions, vanished file): not a media problem
    except av.error.FFmpegError as err:
        raise _media_error(err, opening=True) from err
    with container:
        try:
            yield from _decode(container, path, fps, max_frames, max_frame_pixels)
        except av.error.FFmpegError as err:
            raise _media_error(err, opening=False) from err
        except MemoryError as err:
            raise MediaTooLargeError("the video needs more memory to decode than we allow") from err


def _decode(
    container: Any, path: Path, fps: float, max_frames: int, max_frame_pixels: int
) -> Generator[VideoFrame, None, None]:
    if not container.streams.video:
        if container.streams.audio:
            raise UnsupportedMediaError("the file has sound but no picture (no video track)")
        raise UnsupportedMediaError("the file has no video track")
    stream = container.streams.video[0]
    codec = stream.codec_context
    width, height = int(codec.width), int(codec.height)
    if width <= 0 or height <= 0:
        raise CorruptMediaError("the video track has no picture size (damaged or incomplete file)")
    if width * height > max_frame_pixels:
        raise MediaTooLargeError(
            f"the video claims frames of {width} x {height} pixels, more than the "
            f"{max_frame_pixels / 1e6:.1f} megapixels per frame we decode"
        )
    frame_rate = _frame_rate(stream)
    step = frame_step(fps, frame_rate)
    _check_not_truncated(stream, path)
    # The decoder refuses frames above the limit itself, even when the size changes mid-stream.
    codec.options = {**codec.options, "max_pixels": str(max_frame_pixels)}

    decoded = 0
    for packet in container.demux(stream):
        for frame in packet.decode():
            index = decoded
            decoded += 1
            if decoded > max_frames:
                raise MediaTooLargeError(
                    f"the video is too long: it has more than {max_frames} frames, "
                    "the most we decode from one file"
                )
            if index % step:
                continue
            if frame.width * frame.height > max_frame_pixels:
                raise MediaTooLargeError(
                    f"a frame of the video is {frame.width} x {frame.height} pixels, more than "
                    f"the {max_frame_pixels / 1e6:.1f} megapixels per frame we decode"
                )
            yield VideoFrame(
                index=index,
                timestamp=reference_timestamp(index, frame_rate),
                rgb=_to_rgb(frame, width, height),
            )
    if decoded == 0:
        raise CorruptMediaError("the video track contains no decodable frames")


def _frame_rate(stream: Any) -> float:
    """The stream's average frame rate, else its base rate (the reference's choice)."""
    for rate in (stream.average_rate, stream.base_rate):
        if isinstance(rate, Fraction) and rate > 0:
            return float(rate.numerator) / float(rate.denominator)
    raise CorruptMediaError("the video track has no frame rate (damaged or unusual file)")


def _check_not_truncated(stream: Any, path: Path) -> None:
    """Refuse files whose container index points past the end of the file.

    A cut MP4 whose index comes first decodes "fine" up to the cut and stops without an error;
    hashing half a video silently would give hashes that match poorly.
    """
    size = path.stat().st_size
    end = 0
    for entry in stream.index_entries:
        if entry.pos >= 0:
            end = max(end, int(entry.pos) + int(entry.size))
    if end > size:
        raise CorruptMediaError(
            f"the video file is truncated: it holds {size} bytes but its index needs {end}"
        )


def _to_rgb(frame: Any, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Convert a decoded frame to packed RGB24 the way the reference's libswscale call does."""
    name = str(frame.format.name)
    kwargs: dict[str, str] = {}
    if name.startswith(_YUV_PREFIXES):
        # The reference sets no colour details: BT.601 matrix, full range only for yuvj* formats.
        kwargs["src_colorspace"] = "ITU601"
        kwargs["src_color_range"] = "JPEG" if name.startswith("yuvj") else "MPEG"
    rgb_frame = frame.reformat(
        width=width, height=height, format=_RGB_FORMAT, interpolation=_INTERPOLATION, **kwargs
    )
    rgb: npt.NDArray[np.uint8] = np.ascontiguousarray(rgb_frame.to_ndarray(), dtype=np.uint8)
    if rgb.shape != (height, width, 3):
        raise CorruptMediaError("a decoded frame has an unexpected shape")
    rgb.setflags(write=False)
    return rgb


def _media_error(
    err: av.error.FFmpegError, *, opening: bool
) -> CorruptMediaError | UnsupportedMediaError | MediaTooLargeError:
    """Turn a PyAV/FFmpeg exception into a plain-language media error."""
    reason = str(getattr(err, "strerror", "") or "unknown error").rstrip(".")
    if isinstance(err, av.error.DemuxerNotFoundError | av.error.DecoderNotFoundError):
        return UnsupportedMediaError(f"the video format or codec is not supported ({reason})")
    if isinstance(err, av.error.PatchWelcomeError):
        return UnsupportedMediaError(f"the video uses a feature FFmpeg does not support ({reason})")
    if isinstance(err, av.error.MemoryError):
        return MediaTooLargeError("the video needs more memory to decode than we allow")
    if opening:
        return CorruptMediaError(
            f"the file is not a readable video: it is damaged, incomplete or not a video ({reason})"
        )
    return CorruptMediaError(f"the video is damaged and could not be decoded ({reason})")


def _ensure_quiet_ffmpeg() -> None:
    """Keep FFmpeg off stderr unless someone chose a PyAV log level (checked once, lazily)."""
    global _quiet_checked
    if not _quiet_checked:
        if av.logging.get_level() is None:
            av.logging.set_level(None)
        _quiet_checked = True
