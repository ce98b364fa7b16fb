"""Write one synthetic FST/TST video, frame by frame, together with its exact per-second truth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from behavscore.synth import body, fst, tst
from behavscore.synth.animal import AnimalTraits, sample_traits
from behavscore.synth.bouts import FST_LABELS, MOBILE, TST_LABELS, frame_second_index, frame_states, seconds_majority, simulate_bouts
from behavscore.synth.drawing import draw_mouse
from behavscore.synth.nuisance import NuisanceSettings, apply_camera, camera_track, make_noise_bank
from behavscore.synth.pharmacology import DRUG_PROFILES, IMMOBILITY_LATE_RANGE, behaviour_levels

PROTOCOLS = ("fst", "tst")
MAX_ANIMALS = 12
FOURCC = "mp4v"
_PROTOCOL_CODE = {"fst": 1, "tst": 2}


@dataclass(frozen=True)
class AnimalSpec:
    """What the experimenter decides about one animal (the rest is drawn at random).

    ``immobility_late``, when given, fixes the animal's settled immobility fraction (0.05-0.92)
    instead of drawing it from its treatment: animals at the extremes of what drugs do, to check
    that a scorer does not pull strong effects toward the middle. ``tail_climb_s`` (TST only),
    ``(start_s, end_s)``: the mouse climbs its tail and clings under the bar from ``start_s``
    until ``end_s``, the mishap for which labs exclude an animal; those seconds are labelled
    ``mobile`` with detail ``tail_climb``. ``falls_at_s`` (TST only): the tape gives way then and
    the mouse walks about the floor of its compartment to the end; those seconds are ``mobile``
    with detail ``fallen``. ``removed_at_s`` (FST or TST): the experimenter takes the animal out
    then; its compartment is empty to the end, those seconds labelled ``absent``.
    """

    treatment: str = "vehicle"
    dose_mg_kg: float = 0.0
    sex: str | None = None
    coat: str | None = None
    immobility_late: float | None = None
    tail_climb_s: tuple[float, float] | None = None
    falls_at_s: float | None = None
    removed_at_s: float | None = None


@dataclass(frozen=True)
class SynthVideo:
    """A written synthetic video and its truth.

    Attributes
    ----------
    path : Path
        The video file.
    fps : float
        Frame rate.
    n_frames : int
        Number of frames written.
    frame_size : tuple of int
        (width, height) in pixels.
    rois : list of tuple
        ``(animal, x, y, w, h)``: each animal's compartment rectangle, inside the frame.
    truth : pandas.DataFrame
        ``video, animal, second, label, detail``: one row per animal and 1-s bin [s, s+1).
    animals : pandas.DataFrame
        One row per animal: ``animal, treatment, dose_mg_kg, sex, coat, size_scale``, the drawn
        behavioural levels and rhythms.
    frames : pandas.DataFrame
        One row per animal and frame: ``animal, frame, state, detail, centroid_x, centroid_y``
        (the rendered body centroid, before camera jitter).
    """

    path: Path
    fps: float
    n_frames: int
    frame_size: tuple[int, int]
    rois: list[tuple[str, int, int, int, int]]
    truth: pd.DataFrame
    animals: pd.DataFrame = field(default_factory=pd.DataFrame)
    frames: pd.DataFrame = field(default_factory=pd.DataFrame)


#: Keys of a ``treatment_effects`` entry given as a dict.
SPEC_FIELDS = tuple(f.name for f in fields(AnimalSpec))


def _as_spec(item: AnimalSpec | Mapping | None) -> AnimalSpec:
    if item is None:
        return AnimalSpec()
    if isinstance(item, AnimalSpec):
        spec = item
    elif isinstance(item, Mapping):
        unknown = set(item) - set(SPEC_FIELDS)
        if unknown:
            raise ValueError(f"treatment_effects entries accept {', '.join(SPEC_FIELDS)}; got {sorted(unknown)}")
        spec = AnimalSpec(**item)
    else:
        raise ValueError(f"treatment_effects entries must be AnimalSpec or dict, got {type(item).__name__}")
    if spec.treatment not in DRUG_PROFILES:
        raise ValueError(f"treatment must be one of {sorted(DRUG_PROFILES)}, got {spec.treatment!r}")
    if not np.isfinite(spec.dose_mg_kg) or spec.dose_mg_kg < 0:
        raise ValueError(f"dose_mg_kg must be finite and >= 0, got {spec.dose_mg_kg!r}")
    lo, hi = IMMOBILITY_LATE_RANGE
    if spec.immobility_late is not None and not lo <= spec.immobility_late <= hi:
        raise ValueError(f"immobility_late must be between {lo} and {hi}, got {spec.immobility_late!r}")
    if spec.tail_climb_s is not None:
        start_s, end_s = (float(t) for t in spec.tail_climb_s)
        if not (np.isfinite(start_s) and np.isfinite(end_s) and 0 <= start_s < end_s):
            raise ValueError(f"tail_climb_s must be (start_s, end_s) with 0 <= start_s < end_s, got {spec.tail_climb_s!r}")
        spec = replace(spec, tail_climb_s=(start_s, end_s))
    for name in ("falls_at_s", "removed_at_s"):
        value = getattr(spec, name)
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a time >= 0 s, got {value!r}")
    return spec


def _validate(protocol: str, seconds: float, animals: int, fps: float) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be 'fst' or 'tst', got {protocol!r}")
    if not isinstance(animals, (int, np.integer)) or not 1 <= animals <= MAX_ANIMALS:
        raise ValueError(f"animals must be an integer from 1 to {MAX_ANIMALS}, got {animals!r}")
    if not np.isfinite(fps) or not 1.0 <= fps <= 240.0:
        raise ValueError(f"fps must be between 1 and 240, got {fps!r}")
    if not np.isfinite(seconds) or seconds < 1.0 or seconds > 7200.0:
        raise ValueError(f"seconds must be between 1 and 7200, got {seconds!r}")


def _rois(protocol: str, ids: list[str], geom) -> list[tuple[str, int, int, int, int]]:
    rois = []
    for j, name in enumerate(ids):
        x0 = j * geom.panel_w
        if protocol == "fst":
            x = x0 + geom.wall_left - 3
            rois.append((name, x, geom.top_y - 6, geom.wall_right - geom.wall_left + 7, geom.bottom_y - geom.top_y + 12))
        else:
            rois.append((name, x0 + geom.divider_px, 0, geom.panel_w - 2 * geom.divider_px, geom.panel_h))
    return rois


def _scale_rois(rois, factor: float, width: int, height: int) -> list[tuple[str, int, int, int, int]]:
    out = []
    for name, x, y, w, h in rois:
        x0, y0 = int(np.floor(x * factor)), int(np.floor(y * factor))
        x1, y1 = min(width, int(np.ceil((x + w) * factor))), min(height, int(np.ceil((y + h) * factor)))
        out.append((name, x0, y0, x1 - x0, y1 - y0))
    return out


def generate_video(
    path: str | Path,
    protocol: str,
    seed: int,
    seconds: float = 360.0,
    animals: int = 2,
    fps: float = 25.0,
    treatment_effects: Sequence[AnimalSpec | Mapping] | None = None,
    *,
    animal_ids: Sequence[str] | None = None,
    nuisance: NuisanceSettings | None = None,
    scale: float = 1.0,
) -> SynthVideo:
    """Render one synthetic FST or TST video with ``animals`` compartments side by side.

    Parameters
    ----------
    path : str or Path
        Output ``.mp4`` file (parent folders are created).
    protocol : {"fst", "tst"}
        Forced swim test (side view of cylinders) or tail suspension test.
    seed : int
        Seed; the same seed and arguments give the same truth and the same frames.
    seconds : float
        Session length (default 6 min).
    animals : int
        Number of animals (panels) in the video.
    fps : float
        Frame rate.
    treatment_effects : sequence of AnimalSpec or dict, optional
        One entry per animal: ``treatment``, ``dose_mg_kg`` and optionally ``sex``, ``coat`` and
        ``immobility_late`` (see :class:`AnimalSpec`). Default: vehicle for every animal.
    animal_ids : sequence of str, optional
        Animal names used in the ROIs and truth (default ``a1, a2, ...``).
    nuisance : NuisanceSettings, optional
        Camera nuisance strengths (default ``NuisanceSettings()``).
    scale : float
        Output resolution relative to the default geometry (0.3-3): the scene is drawn at the
        default size, then area-downsampled (or, above 1, linearly upsampled, e.g. 2.3 for a
        lab camera's 640x460 frame in throughput benchmarks); the camera nuisances are applied
        at the output size. ROIs and centroids are in output pixels.

    Returns
    -------
    SynthVideo

    Notes
    -----
    Frames are rendered and written one at a time; only small per-frame parameter arrays are
    held in memory. The label of a second is the majority state of its frames. ``detail``:
    FST immobile seconds are ``paddle`` when a single-limb paddle happens in them, else
    ``float``; TST immobile seconds are ``swing`` when most of their immobile frames are in a
    passive decaying swing, else ``hang``.
    """
    _validate(protocol, seconds, animals, fps)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    specs = [_as_spec(None)] * animals if treatment_effects is None else [_as_spec(e) for e in treatment_effects]
    if len(specs) != animals:
        raise ValueError(f"treatment_effects has {len(specs)} entries but animals={animals}")
    if protocol != "tst" and any(spec.tail_climb_s is not None or spec.falls_at_s is not None for spec in specs):
        raise ValueError("tail_climb_s and falls_at_s are tail suspension mishaps: give them for protocol 'tst' only")
    ids = [f"a{j + 1}" for j in range(animals)] if animal_ids is None else [str(a) for a in animal_ids]
    if len(ids) != animals or len(set(ids)) != animals:
        raise ValueError(f"animal_ids must be {animals} distinct names, got {ids!r}")
    if not np.isfinite(scale) or not 0.3 <= scale <= 3.0:
        raise ValueError(f"scale must be between 0.3 and 3, got {scale!r}")
    settings = nuisance if nuisance is not None else NuisanceSettings()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n_frames = int(round(seconds * fps))
    root = np.random.SeedSequence([int(seed), _PROTOCOL_CODE[protocol]])
    scene_seq, camera_seq, *animal_seqs = root.spawn(2 + animals)
    geom = fst.FstGeometry() if protocol == "fst" else tst.TstGeometry()

    traits: list[AnimalTraits] = []
    tracks = []
    climbs: list[np.ndarray | None] = []
    falls: list[np.ndarray | None] = []
    states_all = []
    info = []
    for j, (spec, seq) in enumerate(zip(specs, animal_seqs)):
        r_traits, r_levels, r_bouts, r_motion = (np.random.default_rng(s) for s in seq.spawn(4))
        tr = sample_traits(r_traits, coat=spec.coat, sex=spec.sex)
        levels = behaviour_levels(r_levels, protocol, spec.treatment, spec.dose_mg_kg)
        if spec.immobility_late is not None:
            levels = replace(levels, immobility_late=float(spec.immobility_late))
        bouts = simulate_bouts(r_bouts, protocol, n_frames / fps, levels)
        states = frame_states(bouts, n_frames, fps)
        if protocol == "fst":
            track = fst.simulate_fst(states, fps, r_motion, tr, geom)
        else:
            track = tst.simulate_tst(states, fps, r_motion, tr, geom)
        climb = None if spec.tail_climb_s is None else tst.climb_share(n_frames, fps, *spec.tail_climb_s)
        if climb is not None:
            up = climb >= 0.5
            track = replace(track, detail=np.where(up, tst.TAIL_CLIMB, track.detail).astype(np.int8))
            states = np.where(up, MOBILE, states)
        fall = None if spec.falls_at_s is None else tst.fall_share(n_frames, fps, spec.falls_at_s)
        if fall is not None:
            down = fall >= 0.5
            track = replace(track, detail=np.where(down, tst.FALLEN, track.detail).astype(np.int8))
            states = np.where(down, MOBILE, states)
        climbs.append(climb)
        falls.append(fall)
        traits.append(tr)
        tracks.append(track)
        states_all.append(states)
        info.append({
            "animal": ids[j], "treatment": spec.treatment, "dose_mg_kg": float(spec.dose_mg_kg),
            "sex": tr.sex, "coat": tr.coat.name, "size_scale": round(tr.size_scale, 3),
            "immobility_level": round(levels.immobility_late, 3), "climb_share": round(levels.climb_share, 3),
            "swing_hz": round(tr.swing_hz, 3), "swing_tau_s": round(tr.swing_tau_s, 3),
        })

    scene_rng = np.random.default_rng(scene_seq)
    coat_names = [t.coat.name for t in traits]
    if protocol == "fst":
        background = fst.fst_background(geom, coat_names, scene_rng)
        waters = [fst.make_water(geom, c, scene_rng) for c in coat_names]
    else:
        background = tst.tst_background(geom, coat_names, scene_rng)
    draw_h, draw_w = background.shape[:2]
    width, height = int(round(draw_w * scale)), int(round(draw_h * scale))
    camera_rng = np.random.default_rng(camera_seq)
    bank = make_noise_bank(camera_rng, height, width, settings.noise_dn) if settings.noise_dn > 0 else None
    camera = camera_track(camera_rng, n_frames, fps, settings, n_fields=8)

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC), float(fps), (width, height), True)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV could not open a {FOURCC} video writer for {path}")
    centroids = np.empty((animals, n_frames, 2))
    try:
        for i in range(n_frames):
            frame = background.copy()
            for j in range(animals):
                x0 = j * geom.panel_w
                present = specs[j].removed_at_s is None or i < specs[j].removed_at_s * fps
                if protocol == "fst":
                    pose = fst.fst_pose(tracks[j], i, traits[j], geom, x0)
                    if present:
                        draw_mouse(frame, pose, traits[j].coat)
                    fst.draw_water(frame, x0, geom, waters[j], float(tracks[j].ripple_px[i]), i / fps, coat_names[j])
                else:
                    pose = tst.tst_pose(tracks[j], i, traits[j], geom, x0)
                    if climbs[j] is not None and climbs[j][i] > 0:
                        pose = body.blend(pose, tst.climbed_pose(i, fps, traits[j], geom, x0), climbs[j][i])
                    if falls[j] is not None and falls[j][i] > 0:
                        fallen = tst.fallen_pose(i, fps, specs[j].falls_at_s, traits[j], geom, x0)
                        pose = body.blend(pose, fallen, falls[j][i])
                    if present:
                        draw_mouse(frame, pose, traits[j].coat)
                    tst.draw_tape(frame, x0, geom)
                centroids[j, i] = body.centroid(pose)
            if scale != 1.0:
                frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            writer.write(apply_camera(frame, i, camera, bank))
    finally:
        writer.release()

    centroids = (centroids + 0.5) * np.array([width / draw_w, height / draw_h]) - 0.5
    truth, frames = _truth_tables(path.name, protocol, ids, states_all, tracks, centroids, fps)
    for name, spec in zip(ids, specs):
        if spec.removed_at_s is not None:  # a second is absent when most of it is
            gone = (truth["animal"] == name) & (truth["second"] + 0.5 >= spec.removed_at_s)
            truth.loc[gone, ["label", "detail"]] = ["absent", "removed"]
    return SynthVideo(
        path=path, fps=float(fps), n_frames=n_frames, frame_size=(width, height),
        rois=_scale_rois(_rois(protocol, ids, geom), width / draw_w, width, height), truth=truth, animals=pd.DataFrame(info), frames=frames,
    )


def _truth_tables(video: str, protocol: str, ids: list[str], states_all, tracks, centroids, fps: float):
    labels = np.array(FST_LABELS if protocol == "fst" else TST_LABELS)
    details = np.array(fst.FST_DETAILS if protocol == "fst" else tst.TST_DETAILS)
    rows = []
    frame_rows = []
    for j, name in enumerate(ids):
        states = states_all[j]
        detail = tracks[j].detail
        n_frames = len(states)
        second_of_frame = frame_second_index(n_frames, fps)
        label_code = seconds_majority(states, fps, len(labels))
        n_seconds = len(label_code)
        second_detail = np.empty(n_seconds, dtype=object)
        if protocol == "fst":
            paddled = np.zeros(n_seconds, dtype=bool)
            np.logical_or.at(paddled, second_of_frame, detail == fst.PADDLE)
            active = np.where(label_code == 1, "swim", "climb")
            second_detail[:] = np.where(label_code == 0, np.where(paddled, "paddle", "float"), active)
        else:
            swing = np.zeros(n_seconds)
            still = np.zeros(n_seconds)
            climbed = np.zeros(n_seconds)
            fallen = np.zeros(n_seconds)
            np.add.at(swing, second_of_frame, detail == tst.SWING)
            np.add.at(still, second_of_frame, (detail == tst.HANG) | (detail == tst.SWING))
            np.add.at(climbed, second_of_frame, detail == tst.TAIL_CLIMB)
            np.add.at(fallen, second_of_frame, detail == tst.FALLEN)
            swing_major = swing > 0.5 * np.maximum(still, 1)
            half = 0.5 * np.bincount(second_of_frame, minlength=n_seconds)
            active = np.where(climbed > half, "tail_climb", np.where(fallen > half, "fallen", "struggle"))
            second_detail[:] = np.where(label_code == 0, np.where(swing_major, "swing", "hang"), active)
        rows.append(pd.DataFrame({
            "video": video, "animal": name, "second": np.arange(n_seconds),
            "label": labels[label_code], "detail": second_detail.astype(str),
        }))
        frame_rows.append(pd.DataFrame({
            "animal": name, "frame": np.arange(n_frames), "state": labels[states],
            "detail": details[detail], "centroid_x": centroids[j, :, 0], "centroid_y": centroids[j, :, 1],
        }))
    return pd.concat(rows, ignore_index=True), pd.concat(frame_rows, ignore_index=True)
