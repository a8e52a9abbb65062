"""What a reporter is told about a case, in plain words and never about the content."""

from django.utils.translation import gettext as _

from openhotline.cases.models import CaseState


def public_outcome(state: str, closure_reason: str = "") -> str:
    """The outcome for a case in `state`; a closed case says why, in general terms."""
    if state == CaseState.AWAITING_ACTION:
        return _("We assessed this and found criminal content. We are acting to have it removed.")
    if state == CaseState.CLOSED:
        closed = {
            "not_csam": _(
                "We assessed this and did not find child sexual abuse material that is "
                "illegal under the laws we work to. Thank you for reporting it."
            ),
            "unavailable": _(
                "When we assessed this, the content could no longer be found at this "
                "address. Thank you for reporting it."
            ),
            "off_remit": _(
                "We assessed this and it was outside our remit, so we could not act on it. "
                "Thank you for reporting it."
            ),
        }
        return closed.get(closure_reason, _("We assessed this and have closed it."))
    if state in (CaseState.RECEIVED, CaseState.CAPTURED, CaseState.CAPTURE_FAILED):
        return _(
            "We have received this and one of our analysts will assess it. "
            "There is nothing more you need to do."
        )
    return _("We are working on this.")
