"""BORIS project files (``.boris``, ``.boris.gz``) read directly: no export step.

A BORIS project is JSON: an ethogram (``behaviors_conf``: each behaviour's ``code`` and
``type``, ``State event`` or ``Point event``), the subjects, and the observations, each with its
media files (``file``: player -> paths), their lengths (``media_info``), its ``time offset`` and
its ``events``, lists ``[time, subject, behaviour, modifier, comment, ...]``. A state event has
no START or STOP of its own: BORIS counts the earlier events of the same behaviour, subject and
modifier, the odd ones start the state and the even ones stop it. Each observation is turned
into the rows of a tabular-events export and read as one (:mod:`behavscore.annotations`), so the
labels, the behaviour map, the checks and the messages are those of an export; messages name
the project, the observation and the event's place in its list.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import math
from pathlib import Path
from typing import Any, Mapping, Optional

import pandas as pd

from .annotations import AnnotationError, DurationArg, _read_boris_events_table, _Table

#: File names BORIS gives its projects (plain and compressed).
PROJECT_SUFFIXES: tuple[str, ...] = (".boris", ".boris.gz")
_HEADER = ["Observation id", "Source", "Media duration (s)", "Time offset (s)", "Subject", "Behavior", "Behavior type", "Time"]


def is_boris_project(path: str | Path) -> bool:
    """Whether a file name is a BORIS project's."""
    return Path(path).name.casefold().endswith(PROJECT_SUFFIXES)


def load_project(path: str | Path) -> dict[str, Any]:
    """The project's JSON, or :class:`AnnotationError` naming the file and what is wrong."""
    path = Path(path)
    try:
        if path.name.casefold().endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                text = fh.read()
        else:
            text = path.read_text(encoding="utf-8")
        project = json.loads(text)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnnotationError(f"{path.name}: not a readable BORIS project ({exc})") from None
    if not isinstance(project, dict) or not isinstance(project.get("observations"), dict):
        raise AnnotationError(f"{path.name}: not a BORIS project (no 'observations')")
    if not project["observations"]:
        raise AnnotationError(f"{path.name}: the project holds no observation")
    return project


def _number(value: Any, where: str, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AnnotationError(f"{where}: {what} {value!r} is not a number of seconds") from None
    if not math.isfinite(number):
        raise AnnotationError(f"{where}: {what} {value!r} is not a number of seconds")
    return number


def observation_table(project_name: str, obs_id: str, obs: Mapping[str, Any], ethogram: Mapping[str, str]) -> _Table:
    """One observation as the rows of a BORIS tabular-events export.

    Parameters
    ----------
    project_name : str
        The project file's name, for messages.
    obs_id : str
        The observation's id.
    obs : mapping
        The observation (``file``, ``media_info``, ``time offset``, ``events``).
    ethogram : mapping
        Behaviour code -> BORIS type (``State event``, ``Point event``, ... with coding map).

    Returns
    -------
    _Table
        Columns ``Observation id, Source, Media duration (s), Time offset (s), Subject, Behavior,
        Behavior type, Time``; each row numbered by the event's place (1-based) in the
        observation's list, events in order of time, states marked START and STOP by BORIS's rule.
    """
    name = f"{project_name}, observation '{obs_id}'"
    players = obs.get("file") or {}
    media = [str(f) for f in (players.get("1") or [])] if isinstance(players, Mapping) else []
    source = f"player #1:{';'.join(media)}" if media else ""
    lengths = (obs.get("media_info") or {}).get("length") or {}
    duration = lengths.get(media[0]) if len(media) == 1 else None
    offset = _number(obs.get("time offset", 0) or 0, name, "time offset")
    events = obs.get("events") or []
    timed = []
    for idx, event in enumerate(events, start=1):
        if not isinstance(event, list) or len(event) < 3:
            raise AnnotationError(f"{name}, event {idx}: not a BORIS event [time, subject, behaviour, ...]: {event!r}")
        timed.append((_number(event[0], f"{name}, event {idx}", "time"), idx, event))
    timed.sort(key=lambda t: (t[0], t[1]))
    seen: dict[tuple[str, str, str], int] = {}
    rows = []
    for time_s, idx, event in timed:
        subject, code = str(event[1] or ""), str(event[2])
        modifier = str(event[3]) if len(event) > 3 and event[3] is not None else ""
        kind = ethogram.get(code.strip())
        if kind is None:
            raise AnnotationError(
                f"{name}, event {idx}: behaviour '{code}' is not in the project's ethogram ({', '.join(sorted(ethogram)) or 'empty'})"
            )
        if "state" in kind.casefold():
            key = (subject, code, modifier)
            status = "STOP" if seen.get(key, 0) % 2 else "START"
            seen[key] = seen.get(key, 0) + 1
        else:
            status = "POINT"
        rows.append((idx, [str(obs_id), source, "" if duration is None else f"{float(duration)!r}", f"{offset!r}", subject, code,
                           status, f"{time_s!r}"]))
    if not rows:
        raise AnnotationError(f"{name}: no events")
    columns = {c.casefold(): i for i, c in enumerate(_HEADER)}
    return _Table(name, 0, columns, list(_HEADER), rows, [], "", row_word="event")


def read_boris_project(
    path: str | Path,
    behaviour_map: Optional[Mapping[str, str]] = None,
    default_label: str = "mobile",
    duration_s: DurationArg = None,
    default_animal: Optional[str] = None,
    animal_map: Optional[Mapping[str, str]] = None,
    observations: Optional[str] = None,
) -> pd.DataFrame:
    """Read every observation of a BORIS project (or those chosen by id) into per-second labels.

    Parameters
    ----------
    path : str or Path
        ``.boris`` (JSON) or ``.boris.gz`` project file.
    behaviour_map, default_label, duration_s, default_animal, animal_map
        As in :func:`behavscore.annotations.read_boris_events`.
    observations : str, optional
        Shell-style pattern of the observation ids to read, case-insensitive (e.g. ``*rater A*``:
        a project holding two raters' observations of the same videos); default all.

    Returns
    -------
    pandas.DataFrame
        ``video, animal, second, label`` of every observation (``video`` the media file's base
        name, or the observation id of one without media), ``attrs["format"] ==
        "boris_project"``.

    Raises
    ------
    AnnotationError
        A file that is not a BORIS project; an event of a behaviour missing from the ethogram,
        an unpaired state, an unknown behaviour name, a time past the media's end, an
        observation playing several media files one after the other; two observations
        labelling the same second of an animal. Messages name the project, the observation and
        the event.
    """
    path = Path(path)
    project = load_project(path)
    ethogram = {
        str(b.get("code", "")).strip(): str(b.get("type", ""))
        for b in (project.get("behaviors_conf") or {}).values() if isinstance(b, Mapping)
    }
    chosen = {str(k): v for k, v in project["observations"].items()
              if observations is None or fnmatch.fnmatchcase(str(k).casefold(), observations.casefold())}
    if not chosen:
        raise AnnotationError(
            f"{path.name}: no observation id matches {observations!r}; its observations: {', '.join(map(str, project['observations']))}"
        )
    parts = []
    for obs_id, obs in chosen.items():
        table = observation_table(path.name, obs_id, obs, ethogram)
        seconds = _read_boris_events_table(table, behaviour_map, default_label, duration_s, default_animal, animal_map)
        parts.append(seconds.assign(_observation=str(obs_id)))
    joined = pd.concat(parts, ignore_index=True)
    keys = ["video", "animal", "second"]
    twice = joined[joined.duplicated(keys, keep=False)]
    if len(twice):
        first = twice.iloc[0]
        both = twice[(twice[keys] == first[keys]).all(axis=1)]["_observation"].tolist()
        raise AnnotationError(
            f"{path.name}: observations '{both[0]}' and '{both[1]}' both label animal '{first.animal}' of video "
            f"'{first.video}' (second {first.second}); keep one observation per video and animal, or read one rater's "
            "observations by their ids (validate --observations, e.g. '*rater A*')"
        )
    out = joined.drop(columns="_observation").sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs.update(source=path.name, format="boris_project",
                     ignored_point_events=sum(int(p.attrs.get("ignored_point_events", 0) or 0) for p in parts))
    return out
