"""Abuse desks: what the simulated providers do when a notice reaches their abuse address.

Every message the SMTP server accepts comes here. For each recipient that is a provider's (or
a CDN's) abuse address, the URLs in the message that belong to that provider's customers are
acted on as the world says: removed (pages with their pictures) after a delay, ignored, or the
host moved to another provider. A CDN removes only from its own edge; the origin keeps serving.
A host's own ``on_notice`` applies while it is at its first provider; once moved, its new
provider's policy does. Notices without a URL for the desk's customers change nothing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from .smtp import ReceivedMail
from .state import WHOLE_SITE, NetState, NoticeEvent
from .world import OnNotice, Provider, SimHost, World

_URL = re.compile(r"\bhttps?://[^\s<>\"'`)\]}]+", re.I)


def urls_in(text: str) -> list[str]:
    """The http(s) URLs in ``text``, also defanged ones (hxxp://, example[.]test)."""
    text = re.sub(r"\bhxxp", "http", text.replace("[.]", "."), flags=re.I)
    return list(dict.fromkeys(url.rstrip(".,;:") for url in _URL.findall(text)))


class NoticeDesks:
    """Turns received notices into scheduled removals and moves on a ``NetState``."""

    def __init__(
        self, world: World, state: NetState, on_event: Callable[[NoticeEvent], None] | None = None
    ) -> None:
        self.world = world
        self.state = state
        self.on_event = on_event
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()

    def receive(self, mail: ReceivedMail) -> None:
        desks = [(rcpt, p) for rcpt in mail.rcpt_tos for p in self.world.providers_for_abuse(rcpt)]
        if not desks:
            return
        reported = self._reported(mail.text())
        for rcpt, provider in desks:
            self._emit(rcpt, "-", "received", detail=mail.subject)
            mine = {h: p for h, p in reported.items() if self._responsible(provider, h)}
            if not mine:
                self._emit(rcpt, "-", "no-urls", detail="no reported URL is hosted here")
            for name, paths in reported.items():
                if name not in mine:
                    self._emit(rcpt, name, "not-ours", tuple(sorted(paths)))
            for name, paths in mine.items():
                self._act(rcpt, provider, name, tuple(sorted(paths)))

    def cancel(self) -> None:
        """Drop every pending removal or move (``Simnet.reset()`` and ``stop()``)."""
        with self._lock:
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()

    # -- deciding ----------------------------------------------------------------------------

    def _reported(self, text: str) -> dict[str, set[str]]:
        """Host name -> reported paths; a page brings its own pictures along."""
        reported: dict[str, set[str]] = {}
        for url in urls_in(text):
            parts = urlsplit(url)
            host = self.world.host_by_name(parts.hostname or "")
            if host is None:
                continue
            path = parts.path or WHOLE_SITE
            paths = reported.setdefault(host.name, set())
            paths.add(path)
            page = host.pages.get(path)
            if page is not None:
                paths.update(f"/img/{name}" for name in page.local_images())
        return reported

    def _responsible(self, provider: Provider, host_name: str) -> bool:
        host = self._host(host_name)
        if provider.kind == "cdn":
            return host.cdn is not None and host.cdn in provider
        return self.state.origin_address(host) in provider

    def _policy(self, provider: Provider, host: SimHost) -> OnNotice:
        if provider.kind == "hosting" and host.on_notice and not self.state.has_moved(host):
            return host.on_notice
        return provider.on_notice

    def _host(self, name: str) -> SimHost:
        host = self.world.host_by_name(name)
        assert host is not None
        return host

    # -- acting ------------------------------------------------------------------------------

    def _act(self, desk: str, provider: Provider, name: str, paths: tuple[str, ...]) -> None:
        host = self._host(name)
        policy = self._policy(provider, host)
        generation = self.state.generation
        edge = provider.kind == "cdn"
        if policy.action == "removes":
            self._emit(desk, name, "will-remove", paths, f"in {policy.after:g} s")

            def remove() -> None:
                if self.state.remove(name, paths, edge=edge, generation=generation):
                    self._emit(desk, name, "removed", paths, "at the CDN edge" if edge else "")

            self._later(policy.after, remove)
        elif policy.action == "moves" and policy.to is not None and not edge:
            target = policy.to
            self._emit(desk, name, "will-move", detail=f"to {target} in {policy.after:g} s")

            def move() -> None:
                if self.state.move(name, target, generation=generation):
                    self._emit(desk, name, "moved", detail=f"now at {target}")

            self._later(policy.after, move)
        else:
            self._emit(desk, name, "ignored", paths)

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        def run() -> None:
            with self._lock:
                self._timers.discard(timer)
            action()

        timer = threading.Timer(delay, run)
        timer.daemon = True
        timer.name = "simnet-notice"
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _emit(
        self, desk: str, host: str, action: str, paths: tuple[str, ...] = (), detail: str = ""
    ) -> None:
        event = NoticeEvent(time.time(), desk.lower(), host, action, paths, detail)
        self.state.record(event)
        if self.on_event is not None:
            self.on_event(event)
