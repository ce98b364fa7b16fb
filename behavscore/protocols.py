"""Test protocols: session length and the scored window (FST 120–360 s, TST 0–360 s)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Protocol:
    """A behavioural test protocol.

    Attributes
    ----------
    name : str
        Short name written to the outputs (``fst``, ``tst`` or a custom name).
    session_s : float
        Planned session length in seconds.
    window_start_s, window_end_s : float
        Scored window, in seconds from the start of the video.
    labels : tuple of str
        Per-second labels the scorer produces.
    """

    name: str
    session_s: float
    window_start_s: float
    window_end_s: float
    labels: tuple[str, ...] = ("immobile", "mobile")

    def __post_init__(self) -> None:
        if not (0 <= self.window_start_s < self.window_end_s):
            raise ValueError(
                f"protocol {self.name!r}: scored window {self.window_start_s:g}–{self.window_end_s:g} s is empty "
                "or negative; give START:END in seconds with START < END"
            )

    def with_window(self, window: tuple[float, float] | None) -> "Protocol":
        """The same protocol scored over another window ``(start_s, end_s)``."""
        if window is None:
            return self
        start_s, end_s = float(window[0]), float(window[1])
        return replace(self, window_start_s=start_s, window_end_s=end_s, session_s=max(self.session_s, end_s))


    def in_video(self, test_start_s: float) -> "Protocol":
        """The same protocol for a test that began ``test_start_s`` into the recording: its
        window in seconds from the start of the video."""
        if not test_start_s:
            return self
        return replace(self, window_start_s=self.window_start_s + test_start_s, window_end_s=self.window_end_s + test_start_s)


PROTOCOLS: dict[str, Protocol] = {
    "fst": Protocol("fst", session_s=360.0, window_start_s=120.0, window_end_s=360.0),
    "tst": Protocol("tst", session_s=360.0, window_start_s=0.0, window_end_s=360.0),
}


def get_protocol(protocol: str | Protocol, window: tuple[float, float] | None = None) -> Protocol:
    """Look up a protocol by name (or pass one through) and apply a window override."""
    if isinstance(protocol, Protocol):
        return protocol.with_window(window)
    key = str(protocol).lower()
    if key not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[key].with_window(window)


def parse_window(text: str | None) -> tuple[float, float] | None:
    """Parse ``"START:END"`` (seconds) as given on the command line; empty → None."""
    if not text:
        return None
    try:
        start, end = (float(v) for v in text.split(":"))
    except ValueError:
        raise ValueError(f"window {text!r} is not START:END in seconds, e.g. 120:360") from None
    if not 0 <= start < end:
        raise ValueError(f"window {text!r}: need 0 <= START < END")
    return start, end
