"""Run the same per-video tasks here, in local processes, or on a Dask cluster."""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
from typing import Any, Callable, Sequence

#: What to tell a user who asks for a cluster without the optional extra installed.
DASK_MISSING = (
    "--scheduler needs Dask's distributed scheduler, which is an optional extra: "
    "pip install 'behavscore[dask]' (on this machine and on every worker)"
)


def run_tasks(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    jobs: int = 1,
    scheduler: str | None = None,
    on_done: Callable[[int, Any], None] | None = None,
) -> list:
    """``fn(task)`` for every task, returned in task order whatever order they finish in.

    Parameters
    ----------
    fn : callable
        A module-level function (it is sent to other processes by reference).
    tasks : sequence
        Picklable arguments, one per call.
    jobs : int
        Local processes (1 = in this process), each on one core: one decoder thread, decoding
        in the task's own thread, single-threaded OpenCV. A single task with ``jobs > 1`` runs
        in this process with its own decoding threads. Ignored with ``scheduler``.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); the tasks run on its
        workers, which must see the same files (shared storage) at the same paths.
    on_done : callable, optional
        Called as ``on_done(index, outcome)`` as each task finishes, in this process.

    Returns
    -------
    list
        ``fn``'s outcomes in task order. ``fn`` should return errors as values: an exception
        it raises stops the run.
    """
    outcomes: list = [None] * len(tasks)

    def done(i: int, outcome: Any) -> None:
        outcomes[i] = outcome
        if on_done:
            on_done(i, outcome)

    if scheduler:
        _run_dask(fn, tasks, scheduler, done)
    elif jobs <= 1 or len(tasks) <= 1:
        # One job: one core. One task with several jobs allowed: it may use them all.
        with _one_core() if jobs <= 1 else contextlib.nullcontext():
            for i, task in enumerate(tasks):
                done(i, fn(task))
    else:
        context = multiprocessing.get_context("spawn")  # decoding threads and fork do not mix
        workers = min(jobs, len(tasks))
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_one_core_each) as pool:
            futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
            for future in concurrent.futures.as_completed(futures):
                done(futures[future], future.result())
    return outcomes


def _one_core_each() -> None:
    """Worker set-up: each video on one core, so workers on different videos do not compete.

    One FFmpeg decoder thread, decoding in the task's own thread (a background decoding
    thread costs more in hand-overs than it saves once every core has its own video), and
    single-threaded OpenCV.
    """
    import cv2

    from .video import set_decoder_threads

    cv2.setNumThreads(1)
    set_decoder_threads(1, background=False)


@contextlib.contextmanager
def _one_core():
    """:func:`_one_core_each` in this process for the duration, then the settings before it."""
    import cv2

    from .video import decoder_settings, set_decoder_threads

    cv_threads, decoding = cv2.getNumThreads(), decoder_settings()
    _one_core_each()
    try:
        yield
    finally:
        cv2.setNumThreads(cv_threads)
        set_decoder_threads(*decoding)


def _run_dask(fn, tasks, scheduler: str, done) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ValueError(DASK_MISSING) from None
    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        futures = client.map(fn, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            done(index[future.key], future.result())
