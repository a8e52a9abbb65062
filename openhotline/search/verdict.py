"""The answer every crawl decision gives: go or not, and why in plain words."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    ok: bool
    # Empty when ok; else the reason a search's progress shows ("excluded by pattern ...").
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


ADMITTED = Verdict(True)


def refused(reason: str) -> Verdict:
    return Verdict(False, reason)
