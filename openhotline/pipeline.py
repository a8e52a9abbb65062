"""What follows what: the one place where a stage hands work to a later one.

The apps are layered in pipeline order (docs/architecture.md, "Layers and hand-offs";
`lint-imports` checks it): a stage imports only the stages beneath it. Where a lower stage
must start a higher one — a case is opened, so its page is captured; a decision stands,
so the URL goes on the URL List and takedown acts — it calls `start(step, ...)` here
instead of importing the higher stage. The table below names, for each step, the
function that carries it out; it is read at call time, so the import graph stays layered
and a reader finds every hand-off in one place. The call runs at once, in the caller's
transaction: a hand-off is as durable as the change that caused it.
"""

from typing import Any

from django.utils.module_loading import import_string

HANDOFFS: dict[str, str] = {
    # cases → evidence: a newly opened case's URL is captured.
    "capture_case": "openhotline.evidence.services.request_capture",
    # signals → feeds: entries created, updated, retired or restored; the members' Hash
    # List follows in the same transaction.
    "share_hash_entries": "openhotline.feeds.hash_list.sync_entries",
    # signals → feeds: a list switched on or off, shared or not, its allow-list changed;
    # the Hash List walks the list again after the commit.
    "share_hash_list": "openhotline.feeds.tasks.enqueue_sync_list",
    # assessment, takedown → feeds: a criminal URL goes on the URL List (a decision that
    # stands, a QA reversal, a re-upload) or comes off it (a reversal, a removal).
    "list_url": "openhotline.feeds.url_list.criminal",
    "unlist_url": "openhotline.feeds.url_list.gone",
    # assessment → takedown: a criminal decision that stands (or is released by QA) is
    # acted on; one reversed by QA stops what has not gone out yet.
    "act_on_case": "openhotline.takedown.tasks.enqueue_act_on",
    "cancel_actions": "openhotline.takedown.services.cancel_pending",
    # assessment → casefile: a decision made or released; the case's reporters hear where
    # it stands (queued in the decision's transaction).
    "tell_reporters": "openhotline.casefile.tasks.queue_tell_reporters",
    # takedown → casefile: the first notice or referral out, a removal confirmed, a QA
    # reversal; the reporters hear it a little later (REPORTER_UPDATE_DELAY_SECONDS).
    "tell_case_reporters": "openhotline.casefile.tasks.queue_updates",
}

# The one question a lower stage asks a higher one, read the same way: the public status
# page (intake) shows each case's outcome, which reads every stage up to takedown.
QUESTIONS: dict[str, str] = {
    "public_outcome": "openhotline.casefile.outcomes.public_outcome",
}


def start(step: str, /, *args: Any, **kwargs: Any) -> Any:
    """Carry out `step` (a key of HANDOFFS) with these arguments; its result."""
    return _call(HANDOFFS, step, args, kwargs)


def ask(question: str, /, *args: Any, **kwargs: Any) -> Any:
    """The answer to `question` (a key of QUESTIONS) from the stage that knows it."""
    return _call(QUESTIONS, question, args, kwargs)


def _call(table: dict[str, str], name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        path = table[name]
    except KeyError:
        raise LookupError(f"{name!r} is not in openhotline.pipeline") from None
    return import_string(path)(*args, **kwargs)
