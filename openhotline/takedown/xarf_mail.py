"""The X-ARF parts of a notice e-mail, and the RFC 6522 message that carries them.

X-ARF's e-mail transport extends ARF (RFC 5965): after the human-readable text, a
``message/feedback-report`` part (``Feedback-Type: xarf``) and the report as
``application/json; name=xarf.json``. `attach_to` adds both to a Django EmailMessage;
`XarfEmailMessage` sends it as ``multipart/report; report-type=feedback-report`` and
refuses any other part (an X-ARF notice carries the report and nothing else, never media).
"""

import email.message
import email.policy
from collections.abc import Mapping
from email.message import MIMEPart
from email.policy import Policy
from typing import Any, Final

from django.core.mail import EmailMessage

from openhotline.takedown.xarf_input import checked_text
from openhotline.takedown.xarf_report import to_json

ATTACHMENT_NAME: Final = "xarf.json"
FEEDBACK_TYPE: Final = "xarf"
DEFAULT_USER_AGENT: Final = "OpenHotline"


def attach_to(
    message: EmailMessage, report: Mapping[str, Any], *, user_agent: str = DEFAULT_USER_AGENT
) -> None:
    """Add the X-ARF parts to a notice e-mail whose body is the human-readable text.

    Two parts, as X-ARF's e-mail transport has them after the text: ``message/feedback-report``
    (``Feedback-Type: xarf``, ``User-Agent``, ``Version: 1``, inline), then the report as
    ``application/json; name=xarf.json``, base64, ``attachment; filename=xarf.json``. The
    message must have no other attachments: an X-ARF notice carries the report and nothing
    else (and certainly no media). Use ``XarfEmailMessage`` to send it as the RFC 6522
    ``multipart/report; report-type=feedback-report`` that X-ARF asks for.
    """
    data = to_json(report).encode("utf-8")
    if message.attachments:
        raise ValueError("the notice already has attachments; X-ARF notices carry only the report")
    feedback = email.message.EmailMessage()
    feedback["Feedback-Type"] = FEEDBACK_TYPE
    feedback["User-Agent"] = checked_text("user_agent", user_agent, max_length=200)
    feedback["Version"] = "1"
    feedback_part = MIMEPart()
    feedback_part.set_content(feedback, subtype="feedback-report", disposition="inline")
    json_part = MIMEPart()
    json_part.set_content(
        data,
        maintype="application",
        subtype="json",
        cte="base64",
        disposition="attachment",
        filename=ATTACHMENT_NAME,
        params={"name": ATTACHMENT_NAME},
    )
    message.attach(feedback_part)
    message.attach(json_part)


class XarfEmailMessage(EmailMessage):
    """A notice e-mail sent as ``multipart/report; report-type=feedback-report`` (RFC 6522).

    Write the human-readable notice as the body, then call ``attach_to``. ``message()``
    refuses anything but text, feedback report, X-ARF JSON, in that order.
    """

    def message(
        self, *, policy: Policy | None = email.policy.default
    ) -> email.message.EmailMessage:
        msg = super().message(policy=policy if policy is not None else email.policy.default)
        types = [part.get_content_type() for part in msg.iter_parts()]
        if (
            len(types) != 3
            or not (types[0].startswith("text/") or types[0] == "multipart/alternative")
            or types[1:] != ["message/feedback-report", "application/json"]
        ):
            raise ValueError(
                "an X-ARF notice is a human-readable body, then attach_to() and nothing else; "
                f"this one has {types}"
            )
        msg.set_type("multipart/report")
        msg.set_param("report-type", "feedback-report")
        return msg
