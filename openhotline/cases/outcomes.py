"""What a reporter is told about a case, in plain words and never about the content."""

from django.utils.translation import gettext as _

from openhotline.cases.models import CaseState


def public_outcome(state: str) -> str:
    outcomes = {
        CaseState.RECEIVED: _(
            "We have received this and one of our analysts will assess it. "
            "There is nothing more you need to do."
        ),
        CaseState.CAPTURED: _(
            "We have received this and one of our analysts will assess it. "
            "There is nothing more you need to do."
        ),
        CaseState.CAPTURE_FAILED: _(
            "We have received this and one of our analysts will assess it. "
            "There is nothing more you need to do."
        ),
    }
    return outcomes.get(state, _("We are working on this."))  # type: ignore[call-overload]
