"""Decoding hostile media in another process, under a wall-clock budget and a memory cap.

A file of a few megabytes can take tens of seconds to decode (large static video frames)
or ask for gigabytes; decoders can also crash outright. So every decode of captured media
(the checks, the hashes, the preview) runs in a warm worker process: the bytes go over a
pipe (never a file), the answer comes back the same way, and a worker that overruns
DECODE_SECONDS is killed. Its address space is capped at DECODE_MEMORY_MB
(RLIMIT_AS), so a memory bomb fails as MemoryError inside the worker, not in ours.

Workers are started by the forkserver (never forked from a threaded web or task worker),
set Django up once, and are kept for the next job; starting one is not charged to the
budget. A killed or crashed worker is replaced on the next call.
"""

import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from django.conf import settings

from openhotline.evidence import decode_worker
from openhotline.evidence.media import Examined, MediaFacts, sniff
from openhotline.evidence.models import MediaCheck

# Settings the decoders read; sent with each job so the worker judges by the caller's
# values (a worker's own settings are those of the moment it started).
_SHARED_SETTINGS = (
    "MEDIA_MAX_PIXELS",
    "MEDIA_MAX_FRAMES",
    "MEDIA_MAX_TOTAL_PIXELS",
    "VIDEO_MAX_SECONDS",
    "VIDEO_MAX_DECODED_FRAMES",
    "PDQ_HASHER",
    "PHOTODNA_IMPLEMENTATION",
)
_START_SECONDS = 120.0  # importing Django, Pillow, PyAV and numpy on a loaded machine
_JOBS_PER_WORKER = 500  # then a fresh process, so a decoder's leaks cannot build up
_IDLE_WORKERS = 2


def examine(data: bytes, *, hashes: bool = True, preview: bool = True) -> Examined:
    """Check, hash and make the preview base of media bytes within the decode budget.

    Never raises for what the bytes do: over budget, the worker is killed and the result
    says "decode budget exceeded" (no hashes, no preview); a crashed decoder is "corrupt".
    """
    budget = float(settings.DECODE_SECONDS)
    job = {
        "hashes": hashes,
        "preview": preview,
        "settings": {name: getattr(settings, name, None) for name in _SHARED_SETTINGS},
    }
    worker = _take_worker()
    try:
        answer = worker.run(job, data, budget)
    except _OverBudget:
        return Examined(_unexamined(data, MediaCheck.OVER_BUDGET, over_budget_problem(budget)))
    except _Crashed as crash:
        return Examined(_unexamined(data, MediaCheck.CORRUPT, str(crash)))
    _give_back(worker)
    return answer


def over_budget_problem(budget: float) -> str:
    return (
        f"decode budget exceeded: decoding took longer than {budget:g} s and was stopped; "
        "the file is kept sealed and can be revealed as a download"
    )


def _unexamined(data: bytes, check: str, problem: str) -> MediaFacts:
    kind, mime, fmt = sniff(data)
    return MediaFacts(kind, mime, fmt, check, problem)


class _OverBudget(Exception):
    pass


class _Crashed(Exception):
    pass


class _Worker:
    def __init__(self, memory_mb: int) -> None:
        context = multiprocessing.get_context("forkserver")
        ours, theirs = context.Pipe(duplex=True)
        self.memory_mb = memory_mb
        self.owner = os.getpid()
        self.jobs = 0
        self.conn: Connection = ours
        self.process: BaseProcess = context.Process(
            target=decode_worker.serve,
            args=(theirs, memory_mb),
            name="openhotline-decoder",
            daemon=True,
        )
        self.process.start()
        theirs.close()
        if not ours.poll(_START_SECONDS) or ours.recv() != "ready":
            self.kill()
            raise RuntimeError("the media decoder process did not start")

    def usable(self, memory_mb: int) -> bool:
        return (
            self.owner == os.getpid()
            and self.memory_mb == memory_mb
            and self.jobs < _JOBS_PER_WORKER
            and self.process.is_alive()
        )

    def run(self, job: dict[str, Any], data: bytes, budget: float) -> Examined:
        self.jobs += 1
        started = time.monotonic()
        try:
            self.conn.send(job)
            self.conn.send_bytes(data)
            if not self.conn.poll(max(budget - (time.monotonic() - started), 0)):
                raise _OverBudget
            answer: Examined = self.conn.recv()
        except _OverBudget:
            self.kill()
            raise
        except (EOFError, OSError):
            self.kill()
            raise _Crashed(
                f"cannot decode: the decoder stopped (exit code {self.process.exitcode})"
            ) from None
        return answer

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


_idle: list[_Worker] = []
_lock = threading.Lock()


def _take_worker() -> _Worker:
    memory_mb = int(settings.DECODE_MEMORY_MB)
    with _lock:
        while _idle:
            worker = _idle.pop()
            if worker.usable(memory_mb):
                return worker
            if worker.owner == os.getpid():
                worker.kill()
    return _Worker(memory_mb)


def _give_back(worker: _Worker) -> None:
    with _lock:
        if len(_idle) < _IDLE_WORKERS and worker.usable(worker.memory_mb):
            _idle.append(worker)
            return
    worker.kill()
