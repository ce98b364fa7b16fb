"""Rewrite the frame durations of an MP4 file (its ``stts`` table): variable frame rate test files.

OpenCV writes constant-rate files only; camera and phone files often have a variable frame rate.
This gives a file the per-frame durations wanted, with nothing but the standard library: the
sample-to-time table is replaced and the durations of movie, track, media and edit list are
scaled to match (chunk offsets are moved when the index precedes the media data).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Sequence

_STBL = [b"moov", b"trak", b"mdia", b"minf", b"stbl"]


def _boxes(data: bytes, start: int, end: int):
    i = start
    while i < end:
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[i + 8 : i + 16])[0], 16
        elif size == 0:
            size = end - i
        yield kind, i, header, size
        i += size


def _find(data: bytes, path: Sequence[bytes], start: int = 0, end: int | None = None) -> list[tuple[int, int, int]] | None:
    """Offset, header size and size of each box along ``path`` (first match), or None."""
    end = len(data) if end is None else end
    for kind, i, header, size in _boxes(data, start, end):
        if kind == path[0]:
            if len(path) == 1:
                return [(i, header, size)]
            rest = _find(data, path[1:], i + header, i + size)
            if rest:
                return [(i, header, size)] + rest
    return None


def _scale(data: bytearray, path: Sequence[bytes], offset_v0: int, offset_v1: int, factor: float) -> None:
    found = _find(data, path)
    if not found:
        return
    i, header, _ = found[-1]
    fmt, offset = (">I", offset_v0) if data[i + header] == 0 else (">Q", offset_v1)
    at = i + header + offset
    struct.pack_into(fmt, data, at, int(round(struct.unpack_from(fmt, data, at)[0] * factor)))


def timescale(path: Path) -> int:
    """Ticks per second of the (first) video track's media time."""
    data = path.read_bytes()
    i, header, _ = _find(data, [b"moov", b"trak", b"mdia", b"mdhd"])[-1]
    return struct.unpack_from(">I", data, i + header + (12 if data[i + header] == 0 else 20))[0]


def set_frame_durations(src: Path, dst: Path, durations: Sequence[int]) -> Path:
    """Copy ``src`` to ``dst`` with frame ``i`` lasting ``durations[i]`` ticks of :func:`timescale`."""
    data = bytearray(Path(src).read_bytes())
    chain = _find(data, _STBL + [b"stts"])
    i, header, size = chain[-1]
    n_old, d_old = struct.unpack_from(">II", data, i + header + 8)  # OpenCV writes one run
    runs: list[list[int]] = []
    for d in durations:
        if runs and runs[-1][1] == d:
            runs[-1][0] += 1
        else:
            runs.append([1, int(d)])
    payload = struct.pack(">II", 0, len(runs)) + b"".join(struct.pack(">II", c, d) for c, d in runs)
    new = struct.pack(">I4s", 8 + len(payload), b"stts") + payload
    grow = len(new) - size
    data[i : i + size] = new
    for j, _, s in chain[:-1]:
        struct.pack_into(">I", data, j, s + grow)
    if chain[0][0] < _find(data, [b"mdat"])[0][0] and grow:
        for table, fmt in ((b"stco", ">I"), (b"co64", ">Q")):
            found = _find(data, _STBL + [table])
            if found:
                k, hk, _ = found[-1]
                width = struct.calcsize(fmt)
                for e in range(struct.unpack_from(">I", data, k + hk + 4)[0]):
                    at = k + hk + 8 + e * width
                    struct.pack_into(fmt, data, at, struct.unpack_from(fmt, data, at)[0] + grow)
    factor = sum(durations) / (n_old * d_old)
    _scale(data, [b"moov", b"mvhd"], 16, 24, factor)
    _scale(data, [b"moov", b"trak", b"tkhd"], 20, 28, factor)
    _scale(data, [b"moov", b"trak", b"mdia", b"mdhd"], 16, 24, factor)
    _scale(data, [b"moov", b"trak", b"edts", b"elst"], 8, 8, factor)
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


#: The track header's display matrix for a picture shown turned 90 degrees clockwise (how phones
#: store portrait clips: sensor rows as recorded, the turn left to the player), 16.16 and 2.30 fixed point.
CLOCKWISE_90 = (0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30)


def set_display_matrix(src: Path, dst: Path, matrix: Sequence[int] = CLOCKWISE_90) -> Path:
    """Copy an MP4 file with the video track's display matrix (``tkhd``) replaced."""
    data = bytearray(Path(src).read_bytes())
    i, header, _ = _find(data, [b"moov", b"trak", b"tkhd"])[-1]
    # version/flags, times, track id, reserved, duration (4 or 8 bytes), reserved, layer,
    # alternate group, volume, reserved; then the nine matrix values.
    at = i + header + (4 + 20 if data[i + header] == 0 else 4 + 32) + 16
    data[at : at + 36] = struct.pack(">9i", *matrix)
    Path(dst).write_bytes(bytes(data))
    return Path(dst)
