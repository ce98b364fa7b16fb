"""Read hand annotations (BORIS exports, per-second tables) into per-second label tables, and
per-animal hand totals (stopwatch seconds, time-sampling counts) into per-animal tables."""

from __future__ import annotations

import csv
import io
import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union

import pandas as pd

LABELS: tuple[str, ...] = ("immobile", "mobile", "swimming", "climbing")
"""Labels of the per-second contract (2-class: immobile/mobile; 3-class FST: immobile/swimming/climbing)."""

IGNORE = "ignore"
"""Mapping target that drops a behaviour (e.g. ``Grooming=ignore``)."""

SECONDS_COLUMNS: tuple[str, ...] = ("video", "animal", "second", "label")
#: Per-animal measures a table of hand totals may hold (named as in ``summary.csv``), with
#: their unit: what a stopwatch gives (immobility over the window, latency to the first
#: immobility) and what the modified FST's time sampling gives (5-s periods counted).
PER_ANIMAL_MEASURES: dict[str, str] = {
    "immobility_s": "s", "latency_s": "s", "swimming_s": "s", "climbing_s": "s",
    "immobility_counts": "count", "swimming_counts": "count", "climbing_counts": "count",
}
NO_FOCAL_SUBJECTS = frozenset({"", "no focal subject", "na", "nan"})
TIME_TOLERANCE_MS = 1  # BORIS writes times with 3 decimals

DurationArg = Union[None, float, Mapping[str, float]]

_KNOWN_COLUMNS = frozenset(
    c.casefold()
    for c in (
        "Observation id", "Observation date", "Description", "Observation type", "Source",
        "Time offset (s)", "Media duration (s)", "Total length", "FPS", "Subject", "Behavior",
        "Behavioral category", "Behavior type", "Status", "Time", "Media file name",
        "Media file path", "Media file", "Comment", "Start (s)", "Stop (s)", "Duration (s)",
        "video", "animal", "second", "label", "window_start_s", "window_end_s", *PER_ANIMAL_MEASURES,
    )
)


class AnnotationError(ValueError):
    """An annotation file that cannot be turned into per-second labels; the message names file and line."""


@dataclass(frozen=True)
class _Table:
    """Rows of a delimited text file, located by their 1-based line numbers."""

    name: str
    header_line: int
    columns: dict[str, int]  # case-folded column name -> position
    header: list[str]
    rows: list[tuple[int, list[str]]]
    preamble: list[tuple[int, list[str]]]
    delimiter: str
    #: What a row is called in messages: a line of a text file, an event of a BORIS project.
    row_word: str = "line"

    def has(self, *names: str) -> bool:
        return any(n.casefold() in self.columns for n in names)

    def get(self, cells: list[str], *names: str) -> str:
        """First non-empty value among columns ``names`` ("" when none)."""
        for n in names:
            idx = self.columns.get(n.casefold())
            if idx is not None and idx < len(cells) and cells[idx]:
                return cells[idx]
        return ""


# --------------------------------------------------------------------------- parsing helpers


def parse_pairs(text: str, what: str = "entry", form: str = "name=value") -> dict[str, str]:
    """Parse ``"a=b,c=d"`` (``;`` may separate pairs, ``:`` may replace ``=``) into a dict.

    Parameters
    ----------
    text : str
        The pairs; empty gives an empty dict.
    what, form : str
        How an entry and its expected form are named in the error of a malformed one.
    """
    pairs: dict[str, str] = {}
    for part in re.split(r"[,;]", text or ""):
        if not part.strip():
            continue
        m = re.match(r"^\s*(.+?)\s*[=:]\s*(.+?)\s*$", part)
        if not m:
            raise ValueError(f"{what} {part.strip()!r} is not of the form {form}")
        pairs[m.group(1)] = m.group(2)
    return pairs


def parse_behaviour_map(text: str) -> dict[str, str]:
    """Parse a behaviour mapping such as ``"Immobility=immobile,Struggling=mobile"``.

    Parameters
    ----------
    text : str
        Pairs ``lab_name=label`` separated by commas or semicolons. ``:`` is accepted instead of
        ``=``. Targets must be one of :data:`LABELS` or ``ignore``.

    Returns
    -------
    dict of str to str
        Lab behaviour name -> our label (lower case).
    """
    mapping: dict[str, str] = {}
    for name, given in parse_pairs(text, "behaviour map entry", "Name=label").items():
        target = given.casefold()
        if target not in LABELS and target != IGNORE:
            raise ValueError(
                f"behaviour map entry '{name}={given}': target {given!r} is not one of {', '.join(LABELS)} or {IGNORE}"
            )
        mapping[name] = target
    return mapping


def _normalise_map(behaviour_map: Optional[Mapping[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, target in (behaviour_map or {}).items():
        t = str(target).strip().casefold()
        if t not in LABELS and t != IGNORE:
            raise ValueError(f"behaviour map: target {target!r} of {name!r} is not one of {', '.join(LABELS)} or {IGNORE}")
        out[str(name).strip().casefold()] = t
    return out


def _check_default_label(default_label: str) -> str:
    label = default_label.strip().casefold()
    if label not in LABELS:
        raise ValueError(f"default_label {default_label!r} is not one of {', '.join(LABELS)}")
    return label


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _split_rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    for cells in reader:
        rows.append((line, [c.strip() for c in cells]))
        line = reader.line_num + 1
    return rows


def parse_column_map(text: str) -> dict[str, str]:
    """Parse ``--columns "Immobility time (s)=immobility_s,Animal ID=animal"``: a file's column
    names (any case) -> the names read here (``video``, ``animal``, ``second``, ``label`` or one of
    :data:`PER_ANIMAL_MEASURES`)."""
    targets = ("video", "animal", "second", "label", *PER_ANIMAL_MEASURES)
    mapping = {}
    for theirs, ours in parse_pairs(text, "--columns entry", "Their column=our_name").items():
        if ours.casefold() not in targets:
            raise ValueError(f"--columns entry '{theirs}={ours}': {ours!r} is not one of {', '.join(targets)}")
        mapping[theirs.casefold()] = ours.casefold()
    return mapping


def _load_table(path: Union[str, Path], column_map: Optional[Mapping[str, str]] = None) -> _Table:
    """Read a CSV/TSV/semicolon file and find its header row by known column names (after
    renaming a file's own names with ``column_map``, case-folded name -> ours)."""
    path = Path(path)
    name = path.name
    text = _read_text(path)
    if not text.strip():
        raise AnnotationError(f"{name}, line 1: file is empty")
    renames = {k.casefold(): v for k, v in (column_map or {}).items()}

    def _renamed(cells: list[str]) -> list[str]:
        return [renames.get(c.casefold(), c) for c in cells]

    best: Optional[tuple[int, str, int, list[tuple[int, list[str]]]]] = None
    for delimiter in ("\t", ",", ";"):
        rows = _split_rows(text, delimiter)
        for i, (_, cells) in enumerate(rows):
            n_known = sum(1 for c in _renamed(cells) if c.casefold() in _KNOWN_COLUMNS)
            if n_known >= 3:
                if best is None or n_known > best[0]:
                    best = (n_known, delimiter, i, rows)
                break
    if best is None:
        # A short hand-made sheet of totals: "animal" and a measure are header enough.
        for delimiter in ("\t", ",", ";"):
            rows = _split_rows(text, delimiter)
            header = {c.casefold() for c in _renamed(rows[0][1])} if rows else set()
            if "animal" in header and header & set(PER_ANIMAL_MEASURES):
                best = (2, delimiter, 0, rows)
                break
    if best is None:
        raise AnnotationError(
            f"{name}, line 1: no header row found; expected a BORIS export (columns 'Behavior', "
            "'Behavior type', 'Time', ...), a per-second table (columns video, animal, second, label) "
            f"or per-animal totals (columns video, animal and any of {', '.join(PER_ANIMAL_MEASURES)})"
        )
    _, delimiter, i, rows = best
    header_line, header = rows[i][0], _renamed(rows[i][1])
    columns: dict[str, int] = {}
    for idx, col in enumerate(header):
        columns.setdefault(col.casefold(), idx)
    data = [(ln, cells) for ln, cells in rows[i + 1 :] if any(cells)]
    if not data:
        raise AnnotationError(f"{name}, line {header_line}: no rows after the header")
    width = len(header)
    data = [(ln, cells + [""] * (width - len(cells))) for ln, cells in data]
    return _Table(name, header_line, columns, header, data, rows[:i], delimiter)


def _detect_format(table: _Table) -> str:
    if table.has("start (s)") and table.has("stop (s)"):
        return "boris_aggregated"
    if table.has("behavior type", "status") and table.has("time"):
        return "boris_events"
    if table.has("video") and table.has("second") and table.has("label"):
        return "per_second"
    if not table.has("second", "label") and table.has(*PER_ANIMAL_MEASURES):
        return "per_animal"
    if table.has("behavior", "subject", "start (s)", "stop (s)", "time", "behavior type", "status"):
        # looks like BORIS but a required column is missing: name it
        if table.has("start (s)", "stop (s)"):
            return "boris_aggregated"
        return "boris_events"
    return "per_second"


def _require(table: _Table, kind: str, groups: Iterable[tuple[str, ...]]) -> None:
    missing = [" or ".join(repr(n) for n in g) for g in groups if not table.has(*g)]
    if missing:
        raise AnnotationError(
            f"{table.name}, line {table.header_line}: missing required column(s) {', '.join(missing)} "
            f"for a {kind}; found: {', '.join(repr(h) for h in table.header if h)}"
        )


def _parse_seconds(text: str, where: str, what: str) -> float:
    s = text.strip()
    if re.fullmatch(r"[+-]?\d+,\d+", s):
        s = s.replace(",", ".")
    try:
        if ":" in s:
            parts = [float(p) for p in s.split(":")]
            value = 0.0
            for p in parts:
                value = value * 60.0 + p
        else:
            value = float(s)
    except ValueError:
        raise AnnotationError(f"{where}: {what} {text!r} is not a number of seconds") from None
    if not math.isfinite(value):
        raise AnnotationError(f"{where}: {what} {text!r} is not a number of seconds")
    return value


def _to_ms(seconds: float) -> int:
    return int(round(seconds * 1000.0))


def _optional_seconds(text: str) -> Optional[float]:
    """A single duration/offset value, or None when missing or listing several media files."""
    s = text.strip()
    if not s or s.casefold() in ("na", "nan", "none") or any(c in s for c in ";|"):
        return None
    try:
        value = float(s.replace(",", ".")) if re.fullmatch(r"\d+,\d+", s) else float(s)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _media_basename(text: str) -> str:
    s = text.strip()
    s = re.sub(r"^player\s*#\d+\s*:\s*", "", s, flags=re.IGNORECASE)
    return re.split(r"[\\/]", s)[-1].strip()


def _check_single_media(source: str, where: str) -> None:
    for segment in source.split("|"):
        files = [f for f in re.sub(r"^\s*player\s*#\d+\s*:", "", segment, flags=re.IGNORECASE).split(";") if f.strip()]
        if len(files) > 1:
            raise AnnotationError(
                f"{where}: the observation plays several media files one after the other ({source}); "
                "times cannot be assigned to one video. Use one observation per video."
            )


def _lookup_duration(duration_s: DurationArg, video: str) -> Optional[float]:
    if duration_s is None:
        return None
    if isinstance(duration_s, Mapping):
        value = duration_s.get(video)
        if value is None:
            stem = video.rsplit(".", 1)[0]
            value = next((v for k, v in duration_s.items() if _media_basename(str(k)) in (video, stem)), None)
        return None if value is None else float(value)
    return float(duration_s)


# --------------------------------------------------------------------------- event rows -> intervals


@dataclass
class _Context:
    table: _Table
    behaviour_map: dict[str, str]
    default_animal: Optional[str]
    animal_map: dict[str, str]
    duration_s: DurationArg
    intervals: list[dict]
    animals: dict[tuple[str, str], None]
    durations_ms: dict[str, Optional[int]]
    end_ms: dict[str, int]
    ignored_points: int = 0

    def where(self, line: int) -> str:
        return f"{self.table.name}, {self.table.row_word} {line}"

    def video_of(self, cells: list[str]) -> str:
        t = self.table
        media = t.get(cells, "media file name", "media file path", "media file")
        if not media or media.casefold() in ("na", "not found"):
            media = t.get(cells, "source")
            if media:
                media = media.split("|")[0].split(";")[0]
        video = _media_basename(media) if media and media.casefold() not in ("na", "not found") else ""
        if not video:
            video = t.get(cells, "observation id") or _preamble_value(t, "observation id") or Path(t.name).stem
        return video

    def animal_of(self, cells: list[str], video: str) -> str:
        subject = self.table.get(cells, "subject").strip()
        if subject.casefold() in NO_FOCAL_SUBJECTS:
            return self.default_animal or video.rsplit(".", 1)[0]
        if subject in self.animal_map:
            return self.animal_map[subject]
        return self.animal_map.get(subject.casefold(), subject)

    def offset_s(self, cells: list[str]) -> float:
        value = _optional_seconds(self.table.get(cells, "time offset (s)") or _preamble_value(self.table, "time offset (s)"))
        return value or 0.0

    def register(self, line: int, cells: list[str]) -> tuple[str, str]:
        """Record the video/animal of a row and the video's duration; return (video, animal)."""
        video = self.video_of(cells)
        animal = self.animal_of(cells, video)
        self.animals.setdefault((video, animal), None)
        source = self.table.get(cells, "source")
        if source:
            _check_single_media(source, self.where(line))
        if self.durations_ms.get(video) is None:
            explicit = _lookup_duration(self.duration_s, video)
            if explicit is None:
                explicit = _optional_seconds(self.table.get(cells, "media duration (s)", "total length"))
            self.durations_ms[video] = None if explicit is None else _to_ms(explicit)
        return video, animal

    def time_ms(self, text: str, line: int, cells: list[str], video: str, what: str) -> int:
        """Time of an event in whole milliseconds from the start of its video, checked against its end."""
        where = self.where(line)
        if not text.strip() or text.strip().casefold() in ("na", "nan"):
            raise AnnotationError(f"{where}: missing {what}")
        t_ms = _to_ms(_parse_seconds(text, where, what)) - _to_ms(self.offset_s(cells))
        if t_ms < -TIME_TOLERANCE_MS:
            raise AnnotationError(f"{where}: {what} {text} s is before the start of the video")
        t_ms = max(t_ms, 0)
        duration = self.durations_ms.get(video)
        if duration is not None and t_ms > duration + TIME_TOLERANCE_MS:
            raise AnnotationError(
                f"{where}: {what} {text} s is past the end of video '{video}' ({duration / 1000:.3f} s)"
            )
        if duration is not None:
            t_ms = min(t_ms, duration)
        self.end_ms[video] = max(self.end_ms.get(video, 0), t_ms)
        return t_ms

    def resolve(self, behaviour: str, line: int) -> Optional[str]:
        """Our label for a STATE behaviour, None when mapped to ``ignore``; unknown names raise."""
        key = behaviour.strip().casefold()
        if key in self.behaviour_map:
            target = self.behaviour_map[key]
            return None if target == IGNORE else target
        if key in LABELS:
            return key
        known = sorted(set(self.behaviour_map) | set(LABELS))
        raise AnnotationError(
            f"{self.where(line)}: unknown behaviour '{behaviour}'; known names: {', '.join(known)}. "
            f"Map it to one of our labels, e.g. --map \"{behaviour}=immobile\" (or \"{behaviour}=ignore\")"
        )

    def point_label(self, behaviour: str) -> Optional[str]:
        key = behaviour.strip().casefold()
        target = self.behaviour_map.get(key)
        if target is None and key in LABELS and key not in self.behaviour_map:
            target = key
        if target is None or target == IGNORE:
            self.ignored_points += 1
            return None
        return target


def _preamble_value(table: _Table, key: str) -> str:
    for _, cells in table.preamble:
        if cells and cells[0].casefold() == key.casefold():
            return next((c for c in cells[1:] if c), "")
    return ""


def _new_context(
    table: _Table,
    behaviour_map: Optional[Mapping[str, str]],
    default_animal: Optional[str],
    animal_map: Optional[Mapping[str, str]],
    duration_s: DurationArg,
) -> _Context:
    amap: dict[str, str] = {}
    for k, v in (animal_map or {}).items():
        amap[str(k)] = str(v)
        amap.setdefault(str(k).casefold(), str(v))
    return _Context(
        table=table,
        behaviour_map=_normalise_map(behaviour_map),
        default_animal=default_animal,
        animal_map=amap,
        duration_s=duration_s,
        intervals=[],
        animals={},
        durations_ms={},
        end_ms={},
    )


def _point_interval(video: str, animal: str, label: str, t_ms: int, behaviour: str, line: int) -> dict:
    start = (t_ms // 1000) * 1000
    return dict(video=video, animal=animal, behaviour=behaviour, label=label,
                start_s=start / 1000, stop_s=(start + 1000) / 1000, line=line, line_stop=line)


def _events_intervals(ctx: _Context) -> None:
    """Pair START/STOP rows of a BORIS tabular-events export into intervals."""
    t = ctx.table
    open_states: dict[tuple[str, str, str, str], tuple[int, int, str, str]] = {}
    for line, cells in t.rows:
        behaviour = t.get(cells, "behavior")
        status = t.get(cells, "behavior type", "status").strip().upper()
        if not behaviour:
            raise AnnotationError(f"{ctx.where(line)}: missing behaviour name")
        video, animal = ctx.register(line, cells)
        time_text = t.get(cells, "time")
        if status == "POINT":
            label = ctx.point_label(behaviour)
            t_ms = ctx.time_ms(time_text, line, cells, video, "time")
            if label is not None:
                ctx.intervals.append(_point_interval(video, animal, label, t_ms, behaviour, line))
            continue
        if status not in ("START", "STOP"):
            raise AnnotationError(
                f"{ctx.where(line)}: behaviour type {status or '(empty)'!r} of '{behaviour}' is not START, STOP or POINT"
            )
        label = ctx.resolve(behaviour, line)
        t_ms = ctx.time_ms(time_text, line, cells, video, "time")
        key = (t.get(cells, "observation id"), video, animal, behaviour.strip().casefold())
        subject = t.get(cells, "subject") or animal
        if status == "START":
            if key in open_states:
                raise AnnotationError(
                    f"{ctx.where(line)}: START of '{behaviour}' for subject '{subject}' while the START at "
                    f"line {open_states[key][0]} has no matching STOP"
                )
            open_states[key] = (line, t_ms, behaviour, subject)
            continue
        if key not in open_states:
            raise AnnotationError(
                f"{ctx.where(line)}: STOP of '{behaviour}' for subject '{subject}' has no matching START"
            )
        start_line, start_ms, _, _ = open_states.pop(key)
        if t_ms < start_ms:
            raise AnnotationError(
                f"{ctx.where(line)}: STOP of '{behaviour}' for subject '{subject}' is earlier than its START at line {start_line}"
            )
        if label is not None and t_ms > start_ms:
            ctx.intervals.append(dict(video=video, animal=animal, behaviour=behaviour, label=label,
                                      start_s=start_ms / 1000, stop_s=t_ms / 1000, line=start_line, line_stop=line))
    if open_states:
        line, _, behaviour, subject = min(open_states.values())
        raise AnnotationError(
            f"{ctx.where(line)}: START of '{behaviour}' for subject '{subject}' has no matching STOP"
        )


def _aggregated_intervals(ctx: _Context) -> None:
    """Read intervals from a BORIS aggregated-events export (one row per state or point)."""
    t = ctx.table
    for line, cells in t.rows:
        behaviour = t.get(cells, "behavior")
        if not behaviour:
            raise AnnotationError(f"{ctx.where(line)}: missing behaviour name")
        kind = t.get(cells, "behavior type").strip().upper() or "STATE"
        video, animal = ctx.register(line, cells)
        if kind == "POINT":
            label = ctx.point_label(behaviour)
            t_ms = ctx.time_ms(t.get(cells, "start (s)"), line, cells, video, "start")
            if label is not None:
                ctx.intervals.append(_point_interval(video, animal, label, t_ms, behaviour, line))
            continue
        if kind != "STATE":
            raise AnnotationError(f"{ctx.where(line)}: behaviour type {kind!r} of '{behaviour}' is not STATE or POINT")
        label = ctx.resolve(behaviour, line)
        start_ms = ctx.time_ms(t.get(cells, "start (s)"), line, cells, video, "start")
        stop_ms = ctx.time_ms(t.get(cells, "stop (s)"), line, cells, video, "stop")
        if stop_ms < start_ms:
            raise AnnotationError(f"{ctx.where(line)}: stop of '{behaviour}' is earlier than its start")
        if label is not None and stop_ms > start_ms:
            ctx.intervals.append(dict(video=video, animal=animal, behaviour=behaviour, label=label,
                                      start_s=start_ms / 1000, stop_s=stop_ms / 1000, line=line, line_stop=line))


def _context_to_seconds(ctx: _Context, default_label: str, fmt: str) -> pd.DataFrame:
    durations = {v: (d if d is not None else ctx.end_ms.get(v, 0)) / 1000 for v, d in ctx.durations_ms.items()}
    intervals = pd.DataFrame(
        ctx.intervals,
        columns=["video", "animal", "behaviour", "label", "start_s", "stop_s", "line", "line_stop"],
    )
    seconds = intervals_to_seconds(
        intervals, default_label=default_label, duration_s=durations, animals=list(ctx.animals), source=ctx.table.name,
        row_word=ctx.table.row_word,
    )
    seconds.attrs.update(source=ctx.table.name, format=fmt, ignored_point_events=ctx.ignored_points)
    return seconds


# --------------------------------------------------------------------------- intervals -> seconds


def _label_bin(segments: list[tuple[int, int, str]], bin_start: int, bin_end: int, default_label: str) -> str:
    """Majority label of one bin; exact ties go to the label at the bin's centre."""
    coverage: dict[str, int] = {}
    cursor = bin_start
    for start, stop, label in segments:
        s, e = max(start, bin_start), min(stop, bin_end)
        if e <= s:
            continue
        if s > cursor:
            coverage[default_label] = coverage.get(default_label, 0) + (s - cursor)
        coverage[label] = coverage.get(label, 0) + (e - s)
        cursor = max(cursor, e)
    if cursor < bin_end:
        coverage[default_label] = coverage.get(default_label, 0) + (bin_end - cursor)
    best = max(coverage.values())
    tied = [lab for lab, ms in coverage.items() if ms == best]
    if len(tied) == 1:
        return tied[0]
    centre = bin_start + 500
    at_centre = next((lab for s, e, lab in segments if s <= centre < e), default_label)
    return at_centre if at_centre in tied else tied[0]


def n_complete_seconds(duration_s: float) -> int:
    """Number of 1-s bins in a video: whole seconds, plus a last bin at least half inside the video.

    Parameters
    ----------
    duration_s : float
        Video duration in seconds.

    Returns
    -------
    int
        ``floor(duration_s + 0.5)``, the scorer's rule for its per-second table.
    """
    return max(0, (_to_ms(duration_s) + 500) // 1000)


def intervals_to_seconds(
    intervals: pd.DataFrame,
    default_label: str = "mobile",
    duration_s: DurationArg = None,
    animals: Optional[Iterable[tuple[str, str]]] = None,
    source: str = "intervals",
    row_word: str = "line",
) -> pd.DataFrame:
    """Convert labelled state intervals into a per-second label table.

    Parameters
    ----------
    intervals : DataFrame
        Columns ``video, animal, label, start_s, stop_s`` (half-open ``[start_s, stop_s)``, seconds
        from the start of the video); optional ``line`` / ``line_stop`` (source line numbers used in
        error messages). Labels must be in :data:`LABELS`.
    default_label : str
        Label of time covered by no interval (labs often score only immobility; the rest is mobile).
    duration_s : float, mapping of video to float, or None
        Video duration(s). None (or a video missing from the mapping): the last interval end of
        that video.
    animals : iterable of (video, animal), optional
        Animals to include even if they have no interval (they get ``default_label`` throughout).
    source : str
        Name used in error messages (usually the annotation file name).
    row_word : str
        What ``line`` numbers count in messages (``line``; ``event`` in a BORIS project).

    Returns
    -------
    DataFrame
        ``video, animal, second, label``, one row per 1-s bin ``[second, second + 1)``, sorted.

    Notes
    -----
    A bin takes the label covering most of it (computed in whole milliseconds). An exact tie
    (e.g. a bout starting at 10.5 s) goes to the label at the bin's centre, ``second + 0.5``; with
    half-open intervals a bout starting at x.5 s claims second x and a bout ending at x.5 s does
    not. A video has ``floor(duration_s + 0.5)`` bins, so a last partial bin is kept when at least
    half of it lies inside the video and is labelled by the part inside. Overlapping intervals
    of the same animal with different labels raise :class:`AnnotationError`; overlapping intervals
    with the same label are merged.
    """
    default = _check_default_label(default_label)
    iv = intervals.copy()
    for col in ("line", "line_stop"):
        if col not in iv.columns:
            iv[col] = pd.NA
    keys: dict[tuple[str, str], None] = {}
    for video, animal in animals or ():
        keys.setdefault((str(video), str(animal)), None)
    for video, animal in zip(iv["video"].astype(str), iv["animal"].astype(str)):
        keys.setdefault((video, animal), None)
    end_by_video: dict[str, float] = {}
    for video, stop in zip(iv["video"].astype(str), iv["stop_s"].astype(float)):
        end_by_video[video] = max(end_by_video.get(video, 0.0), stop)

    grouped = {k: g for k, g in iv.groupby([iv["video"].astype(str), iv["animal"].astype(str)], sort=False)}
    frames = []
    for video, animal in sorted(keys):
        duration = _lookup_duration(duration_s, video)
        if duration is None:
            duration = end_by_video.get(video, 0.0)
        duration_ms = _to_ms(duration)
        n_bins = n_complete_seconds(duration)
        segments = _merge_segments(grouped.get((video, animal)), source, video, animal, row_word)
        starts = [s for s, _, _ in segments]
        labels = []
        for second in range(n_bins):
            b0, b1 = second * 1000, min((second + 1) * 1000, duration_ms)
            lo = max(0, bisect_right(starts, b0) - 1)
            hi = bisect_right(starts, b1)
            labels.append(_label_bin(segments[lo:hi], b0, b1, default))
        frames.append(pd.DataFrame({"video": video, "animal": animal, "second": range(n_bins), "label": labels}))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "second" else object) for c in SECONDS_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    out["second"] = out["second"].astype("int64")
    return out


def _merge_segments(group: Optional[pd.DataFrame], source: str, video: str, animal: str, row_word: str = "line") -> list[tuple[int, int, str]]:
    if group is None or group.empty:
        return []
    rows = []
    for rec in group.itertuples(index=False):
        label = str(rec.label).strip().casefold()
        if label not in LABELS:
            raise AnnotationError(f"{source}, {row_word} {rec.line}: label {rec.label!r} is not one of {', '.join(LABELS)}")
        start, stop = _to_ms(float(rec.start_s)), _to_ms(float(rec.stop_s))
        if stop < start:
            raise AnnotationError(f"{source}, {row_word} {rec.line}: interval ends before it starts")
        if stop > start:
            rows.append((start, stop, label, rec.line, rec.line_stop))
    rows.sort(key=lambda r: (r[0], r[1]))
    merged: list[list] = []
    for start, stop, label, line, line_stop in rows:
        if merged and start < merged[-1][1]:
            prev = merged[-1]
            if label != prev[2]:
                raise AnnotationError(
                    f"{source}, {row_word}s {_lines(prev[3], prev[4])} and {_lines(line, line_stop)}: overlapping states "
                    f"'{prev[2]}' ({prev[0] / 1000:g}-{prev[1] / 1000:g} s) and '{label}' "
                    f"({start / 1000:g}-{stop / 1000:g} s) for animal '{animal}' in video '{video}'"
                )
            prev[1] = max(prev[1], stop)
            continue
        merged.append([start, stop, label, line, line_stop])
    return [(s, e, lab) for s, e, lab, _, _ in merged]


def _lines(line, line_stop) -> str:
    if line_stop is None or pd.isna(line_stop) or line_stop == line:
        return f"{line}"
    return f"{line}-{line_stop}"


# --------------------------------------------------------------------------- public readers


def read_boris_events(
    path: Union[str, Path],
    behaviour_map: Optional[Mapping[str, str]] = None,
    default_label: str = "mobile",
    duration_s: DurationArg = None,
    default_animal: Optional[str] = None,
    animal_map: Optional[Mapping[str, str]] = None,
) -> pd.DataFrame:
    """Read a BORIS tabular-events export (current or older layout) into per-second labels.

    Parameters
    ----------
    path : str or Path
        CSV or TSV export. Current layout: ``Behavior``, ``Behavior type`` (START/STOP/POINT),
        ``Time``, ``Subject``, ``Media file name``, ``Media duration (s)``, ``FPS``. Older layout:
        metadata lines above the header, then ``Time``, ``Media file path``, ``Total length``,
        ``FPS``, ``Subject``, ``Behavior``, ..., ``Status``. Columns are found by name.
    behaviour_map : mapping of str to str, optional
        Lab behaviour name -> label (case-insensitive); target ``ignore`` drops a behaviour.
    default_label : str
        Label of time covered by no mapped state.
    duration_s : float or mapping of video to float, optional
        Video duration(s); overrides ``Media duration (s)`` / ``Total length``.
    default_animal : str, optional
        Animal name when an event has no subject (default: the media file stem).
    animal_map : mapping of str to str, optional
        BORIS subject name -> animal id.

    Returns
    -------
    DataFrame
        ``video, animal, second, label``; ``attrs["ignored_point_events"]`` counts POINT events
        that were not mapped.

    Notes
    -----
    ``video`` is the media file's base name, ``animal`` the BORIS subject. Times are reduced by the
    observation's ``Time offset (s)``. STATE events are paired per observation, video, subject and
    behaviour; a POINT event whose behaviour is mapped labels the 1-s bin that contains it.
    Unpaired START/STOP, unknown behaviours and times past the video's end raise
    :class:`AnnotationError` naming the file and line.
    """
    table = _load_table(path)
    return _read_boris_events_table(table, behaviour_map, default_label, duration_s, default_animal, animal_map)


def _read_boris_events_table(table, behaviour_map, default_label, duration_s, default_animal, animal_map):
    default = _check_default_label(default_label)
    _require(table, "BORIS tabular-events export", [("Behavior",), ("Behavior type", "Status"), ("Time",)])
    ctx = _new_context(table, behaviour_map, default_animal, animal_map, duration_s)
    _events_intervals(ctx)
    return _context_to_seconds(ctx, default, "boris_events")


def read_boris_aggregated(
    path: Union[str, Path],
    behaviour_map: Optional[Mapping[str, str]] = None,
    default_label: str = "mobile",
    duration_s: DurationArg = None,
    default_animal: Optional[str] = None,
    animal_map: Optional[Mapping[str, str]] = None,
) -> pd.DataFrame:
    """Read a BORIS aggregated-events export into per-second labels.

    Parameters
    ----------
    path : str or Path
        CSV or TSV export with ``Subject``, ``Behavior``, ``Behavior type`` (STATE/POINT),
        ``Start (s)``, ``Stop (s)``, ``Duration (s)``, ``Media file name`` (older versions:
        ``Media file`` or ``Source``) and ``Media duration (s)`` (or ``Total length``).
    behaviour_map, default_label, duration_s, default_animal, animal_map
        As in :func:`read_boris_events`.

    Returns
    -------
    DataFrame
        ``video, animal, second, label``.
    """
    table = _load_table(path)
    return _read_boris_aggregated_table(table, behaviour_map, default_label, duration_s, default_animal, animal_map)


def _read_boris_aggregated_table(table, behaviour_map, default_label, duration_s, default_animal, animal_map):
    default = _check_default_label(default_label)
    _require(table, "BORIS aggregated-events export", [("Behavior",), ("Start (s)",), ("Stop (s)",)])
    ctx = _new_context(table, behaviour_map, default_animal, animal_map, duration_s)
    _aggregated_intervals(ctx)
    return _context_to_seconds(ctx, default, "boris_aggregated")


def read_per_second(
    path: Union[str, Path],
    behaviour_map: Optional[Mapping[str, str]] = None,
    duration_s: DurationArg = None,
) -> pd.DataFrame:
    """Read a per-second label table (``video, animal, second, label``; other columns passed through).

    Parameters
    ----------
    path : str or Path
        CSV or TSV file, e.g. a ``seconds.csv`` written by the scorer or a hand-made table.
    behaviour_map : mapping of str to str, optional
        Renames lab labels to ours (case-insensitive); rows mapped to ``ignore`` are dropped.
    duration_s : float or mapping of video to float, optional
        When given, seconds at or past the video's last bin raise :class:`AnnotationError`.

    Returns
    -------
    DataFrame
        The table with ``second`` as int64 and ``label`` in :data:`LABELS`, sorted by
        video, animal, second.
    """
    table = _load_table(path)
    return _read_per_second_table(table, behaviour_map, duration_s)


def _read_per_second_table(table: _Table, behaviour_map, duration_s) -> pd.DataFrame:
    _require(table, "per-second table", [("video",), ("animal",), ("second",), ("label",)])
    bmap = _normalise_map(behaviour_map)
    records: dict[str, list] = {h: [] for h in table.header if h}
    seen: dict[tuple[str, str, int], int] = {}
    known = sorted(set(bmap) | set(LABELS))
    unlabelled = 0
    for line, cells in table.rows:
        where = f"{table.name}, line {line}"
        video = table.get(cells, "video")
        animal = table.get(cells, "animal")
        if not video or not animal:
            raise AnnotationError(f"{where}: missing video or animal")
        if not table.get(cells, "label").strip():
            unlabelled += 1  # a second nobody labelled (the scorer's seconds without an animal): not compared
            continue
        sec_text = table.get(cells, "second")
        try:
            sec_value = float(sec_text)
        except ValueError:
            raise AnnotationError(f"{where}: second {sec_text!r} is not a whole number") from None
        if not math.isfinite(sec_value) or sec_value != int(sec_value) or sec_value < 0:
            raise AnnotationError(f"{where}: second {sec_text!r} is not a whole number >= 0")
        second = int(sec_value)
        raw_label = table.get(cells, "label")
        key = raw_label.strip().casefold()
        label = bmap.get(key, key if key in LABELS else None)
        if label is None:
            raise AnnotationError(f"{where}: unknown label '{raw_label}'; known names: {', '.join(known)}")
        if label == IGNORE:
            continue
        duration = _lookup_duration(duration_s, _media_basename(video))
        if duration is not None and second >= n_complete_seconds(duration):
            raise AnnotationError(f"{where}: second {second} is past the end of video '{video}' ({duration:g} s)")
        ident = (video, animal, second)
        if ident in seen:
            raise AnnotationError(
                f"{where}: second {second} of animal '{animal}' in video '{video}' already given at line {seen[ident]}"
            )
        seen[ident] = line
        for h in records:
            records[h].append(cells[table.columns[h.casefold()]])
        records[table.header[table.columns["label"]]][-1] = label
        records[table.header[table.columns["second"]]][-1] = second
    df = pd.DataFrame(records)
    rename = {table.header[table.columns[c]]: c for c in SECONDS_COLUMNS}
    df = df.rename(columns=rename)
    for col in df.columns:
        if col in SECONDS_COLUMNS:
            continue
        try:
            df[col] = pd.to_numeric(df[col])
        except (ValueError, TypeError):
            pass
    df["second"] = df["second"].astype("int64")
    df = df.sort_values(["video", "animal", "second"], kind="stable").reset_index(drop=True)
    df.attrs.update(source=table.name, format="per_second", ignored_point_events=0, unlabelled_seconds=unlabelled)
    return df


def read_annotations(
    path: Union[str, Path],
    behaviour_map: Optional[Mapping[str, str]] = None,
    default_label: str = "mobile",
    duration_s: DurationArg = None,
    default_animal: Optional[str] = None,
    animal_map: Optional[Mapping[str, str]] = None,
    column_map: Optional[Mapping[str, str]] = None,
    observations: Optional[str] = None,
) -> pd.DataFrame:
    """Read any supported annotation file into a per-second label table.

    Parameters
    ----------
    path : str or Path
        BORIS tabular-events export (current or older layout), BORIS aggregated-events export,
        or a per-second table; comma, tab or semicolon separated (detected from the header row).
        A BORIS project file (``.boris``, ``.boris.gz``: every observation,
        :func:`behavscore.boris_project.read_boris_project`). A folder: every ``.csv``, ``.tsv``,
        ``.txt`` and BORIS project file in it (BORIS writes one export per observation), read one
        by one and joined (:data:`ANNOTATION_SUFFIXES`).
    behaviour_map, default_label, duration_s, default_animal, animal_map
        As in :func:`read_boris_events` (only ``behaviour_map`` and ``duration_s`` apply to
        per-second tables).
    column_map : mapping of str to str, optional
        A file's own column names -> ours (:func:`parse_column_map`), e.g. another program's
        export of per-animal totals.
    observations : str, optional
        BORIS project files only: pattern of the observation ids to read (see
        :func:`behavscore.boris_project.read_boris_project`); refused for other files.

    Returns
    -------
    DataFrame
        ``video, animal, second, label`` (+ pass-through columns of a per-second table);
        ``attrs["format"]`` names the detected format. A table of per-animal totals
        (:func:`read_per_animal`) is returned as it reads, with ``attrs["format"] ==
        "per_animal"``.
    """
    from .boris_project import is_boris_project, read_boris_project

    if observations is not None and not is_boris_project(path):
        raise AnnotationError(f"{Path(path).name}: observations are chosen by id in BORIS project files (.boris) only")
    if Path(path).is_dir():
        return _read_folder(Path(path), behaviour_map, default_label, duration_s, default_animal, animal_map, column_map)
    if is_boris_project(path):
        return read_boris_project(path, behaviour_map, default_label, duration_s, default_animal, animal_map, observations)
    table = _load_table(path, column_map)
    fmt = _detect_format(table)
    if fmt == "per_animal":
        return _read_per_animal_table(table)
    if fmt == "boris_events":
        return _read_boris_events_table(table, behaviour_map, default_label, duration_s, default_animal, animal_map)
    if fmt == "boris_aggregated":
        return _read_boris_aggregated_table(table, behaviour_map, default_label, duration_s, default_animal, animal_map)
    return _read_per_second_table(table, behaviour_map, duration_s)


def read_per_animal(path: Union[str, Path], column_map: Optional[Mapping[str, str]] = None) -> pd.DataFrame:
    """Read per-animal hand totals: a stopwatch sheet, a time-sampling tally or a ``summary.csv``.

    Parameters
    ----------
    path : str or Path
        CSV or TSV file with ``video``, ``animal`` and one or more of
        :data:`PER_ANIMAL_MEASURES` (e.g. ``immobility_s``); other columns are ignored. Without
        a ``video`` column, animals are matched by their id alone (``video`` is ""). Seconds
        may be written ``m:ss``; an empty cell is a measure not taken (latency of an animal
        never immobile). ``window_start_s`` and ``window_end_s``, when present, must be the
        same in every row: they are the seconds the totals cover.
    column_map : mapping of str to str, optional
        The file's own column names -> ours (:func:`parse_column_map`).

    Returns
    -------
    DataFrame
        ``video`` (file name), ``animal`` and the measures present (float, NaN where empty),
        sorted by video and animal; ``attrs["window_s"]`` is ``(start_s, end_s)`` or None and
        ``attrs["format"]`` is ``"per_animal"``.
    """
    return _read_per_animal_table(_load_table(path, column_map))


def _measure_value(text: str, column: str, where: str) -> float:
    if not text or text.casefold() in ("na", "nan"):
        return math.nan
    if PER_ANIMAL_MEASURES[column] == "s":
        value = _parse_seconds(text, where, column)
    else:
        value = _optional_seconds(text)
        if value is None or value != int(value):
            raise AnnotationError(f"{where}: {column} {text!r} is not a whole number of periods")
    if value < 0:
        raise AnnotationError(f"{where}: {column} {text!r} is negative")
    return value


def _read_per_animal_table(table: _Table) -> pd.DataFrame:
    _require(table, "table of per-animal totals", [("animal",)])
    measures = [c for c in PER_ANIMAL_MEASURES if table.has(c)]
    window_columns = ("window_start_s", "window_end_s")
    records: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    windows: dict[tuple[float, float], int] = {}
    for line, cells in table.rows:
        where = f"{table.name}, line {line}"
        video, animal = _media_basename(table.get(cells, "video")), table.get(cells, "animal")
        if not animal or (table.has("video") and not video):
            raise AnnotationError(f"{where}: missing video or animal")
        if (video, animal) in seen:
            of_video = f" of video '{video}'" if video else ""
            raise AnnotationError(f"{where}: animal '{animal}'{of_video} is already on line {seen[video, animal]}")
        seen[video, animal] = line
        if all(table.has(c) for c in window_columns):
            start_s, end_s = (_parse_seconds(table.get(cells, c), where, c) for c in window_columns)
            windows.setdefault((start_s, end_s), line)
        records.append({"video": video, "animal": animal, **{c: _measure_value(table.get(cells, c), c, where) for c in measures}})
    if len(windows) > 1:
        (w1, l1), (w2, l2) = list(windows.items())[:2]
        raise AnnotationError(
            f"{table.name}: lines {l1} and {l2} cover different windows ({w1[0]:g}-{w1[1]:g} s and {w2[0]:g}-{w2[1]:g} s); "
            "compare animals timed over different windows separately"
        )
    df = pd.DataFrame.from_records(records, columns=["video", "animal", *measures])
    df = df.sort_values(["video", "animal"], kind="stable").reset_index(drop=True)
    df.attrs.update(source=table.name, format="per_animal", ignored_point_events=0, window_s=next(iter(windows), None))
    return df


#: Files of a folder of annotations that are read (BORIS exports one file per observation).
ANNOTATION_SUFFIXES = (".csv", ".tsv", ".txt", ".boris", ".boris.gz")


def is_annotation_file(path: Path) -> bool:
    """A file a folder of annotations is read for (:data:`ANNOTATION_SUFFIXES`; not hidden)."""
    return path.is_file() and not path.name.startswith(".") and path.name.casefold().endswith(ANNOTATION_SUFFIXES)


def _read_folder(folder: Path, behaviour_map, default_label, duration_s, default_animal, animal_map, column_map) -> pd.DataFrame:
    """Every annotation file of a folder, joined; a second (or an animal's totals) given by two files is an error."""
    files = sorted(p for p in folder.iterdir() if is_annotation_file(p))
    if not files:
        raise AnnotationError(f"{folder.name}: no annotation files ({', '.join(ANNOTATION_SUFFIXES)}) in this folder")
    tables = [read_annotations(p, behaviour_map, default_label, duration_s, default_animal, animal_map, column_map) for p in files]
    kinds = {"per_animal" if t.attrs["format"] == "per_animal" else "per_second" for t in tables}
    if len(kinds) > 1:
        which = {k: next(p.name for p, t in zip(files, tables) if (t.attrs["format"] == "per_animal") == (k == "per_animal")) for k in kinds}
        raise AnnotationError(
            f"{folder.name}: holds per-second annotations ({which['per_second']}) and per-animal totals ({which['per_animal']}); "
            "compare them from separate folders"
        )
    keys = ["video", "animal"] if kinds == {"per_animal"} else list(SECONDS_COLUMNS[:3])
    joined = pd.concat([t.assign(_file=p.name) for p, t in zip(files, tables)], ignore_index=True)
    twice = joined[joined.duplicated(keys, keep=False)]
    if len(twice):
        first = twice.iloc[0]
        other = twice[(twice[keys] == first[keys]).all(axis=1)]["_file"].tolist()
        what = f"animal '{first.animal}' of video '{first.video}'" + (f", second {first.second}" if "second" in keys else "")
        raise AnnotationError(f"{folder.name}: {other[0]} and {other[1]} both score {what}")
    windows = {t.attrs.get("window_s") for t in tables}
    if len(windows) > 1:
        raise AnnotationError(f"{folder.name}: its files cover different windows ({', '.join(str(w) for w in windows)})")
    formats = sorted({t.attrs["format"] for t in tables})
    out = joined.drop(columns="_file").sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs.update(
        source=folder.name, format=f"folder of {len(files)} file{'s' if len(files) != 1 else ''} ({', '.join(formats)})",
        ignored_point_events=sum(int(t.attrs.get("ignored_point_events", 0) or 0) for t in tables),
        unlabelled_seconds=sum(int(t.attrs.get("unlabelled_seconds", 0) or 0) for t in tables),
        window_s=windows.pop(),
    )
    return out
