"""What has changed in the simulated world since it started: removed content and moved hosts.

The world itself is frozen data; notices change where a name points and what a site still
serves. DNS, web and the notice desks share one ``NetState`` (from several threads), and
``reset()`` puts everything back so one test's takedown never leaks into the next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .world import SimHost, World

WHOLE_SITE = "/"


@dataclass(frozen=True)
class NoticeEvent:
    """One step of the notice-and-takedown loop, for tests and the demo's console.

    ``action``: received, ignored, not-ours, no-urls, will-remove, removed, will-move, moved.
    ``desk`` is the abuse address that got the notice; ``at`` is time.time().
    """

    at: float
    desk: str
    host: str
    action: str
    paths: tuple[str, ...] = ()
    detail: str = ""

    def describe(self) -> str:
        paths = f" {', '.join(self.paths)}" if self.paths else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"[{self.desk}] {self.host}: {self.action}{paths}{detail}"


class NetState:
    """Thread-safe runtime changes to a world: removals (at the origin or a CDN edge), moves."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._moved: dict[str, str] = {}
        self._removed: dict[str, set[str]] = {}
        self._edge_removed: dict[str, set[str]] = {}
        self._events: list[NoticeEvent] = []
        self._generation = 0

    def reset(self) -> None:
        with self._lock:
            self._moved.clear()
            self._removed.clear()
            self._edge_removed.clear()
            self._events.clear()
            self._generation += 1

    @property
    def generation(self) -> int:
        """Bumped by ``reset()``; delayed actions scheduled before it must not run."""
        with self._lock:
            return self._generation

    # -- where hosts are ---------------------------------------------------------------------

    def origin_address(self, host: SimHost) -> str:
        with self._lock:
            return self._moved.get(host.name, host.address)

    def has_moved(self, host: SimHost) -> bool:
        with self._lock:
            return host.name in self._moved

    def dns_address(self, host: SimHost) -> str:
        """What the host's name resolves to now: its CDN edge, else wherever it is."""
        return host.cdn or self.origin_address(host)

    def serves(self, host: SimHost, server_address: str) -> bool:
        return server_address in (self.origin_address(host), host.cdn)

    def hosts_at(self, server_address: str) -> tuple[SimHost, ...]:
        return tuple(h for h in self.world.hosts if self.origin_address(h) == server_address)

    def move(self, host_name: str, address: str, generation: int | None = None) -> bool:
        with self._lock:
            if generation is not None and generation != self._generation:
                return False
            self._moved[host_name] = address
            return True

    # -- what they still serve ---------------------------------------------------------------

    def remove(
        self,
        host_name: str,
        paths: tuple[str, ...],
        edge: bool = False,
        generation: int | None = None,
    ) -> bool:
        """Make ``paths`` (``"/"``: the whole site) answer 404: everywhere, or at the edge only."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return False
            target = self._edge_removed if edge else self._removed
            target.setdefault(host_name, set()).update(paths)
            return True

    def is_removed(self, host: SimHost, path: str, server_address: str) -> bool:
        with self._lock:
            gone = set(self._removed.get(host.name, ()))
            if server_address == host.cdn:
                gone |= self._edge_removed.get(host.name, set())
        return WHOLE_SITE in gone or path in gone

    # -- what happened -----------------------------------------------------------------------

    def record(self, event: NoticeEvent) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def wait_for_event(
        self, predicate: Callable[[NoticeEvent], bool], timeout: float = 10.0
    ) -> NoticeEvent:
        """The first event (past or future) matching ``predicate``; TimeoutError if none comes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((e for e in self._events if predicate(e)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no such simnet event")
                self._changed.wait(left)

    def events(self) -> list[NoticeEvent]:
        with self._lock:
            return list(self._events)
