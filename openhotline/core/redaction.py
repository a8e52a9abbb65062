"""Why a mail to a person could not be sent, in words that never repeat their address.

Mail servers put the recipient in their refusals ("550 5.1.1 <jo@example.org>: user
unknown") and smtplib puts it in its exceptions; a reporter's contact is sealed at rest,
so neither may reach a database row, a task result or a log line. The reason kept is the
kind of failure, the SMTP code and the server's words with every address taken out.
"""

import re
import smtplib

ADDRESS_MARK = "<address>"
# Anything shaped like an e-mail address (someone else's, or ours spelt differently).
_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]{}'\",;:]+@[^\s<>()\[\]{}'\",;:]+")
_LIMIT = 300


def redact(text: str, address: str) -> str:
    """`text` with `address`, its local part, its domain and anything like an address gone."""
    cleaned = text
    local, _, domain = address.partition("@")
    for part in sorted({address, local, domain} - {""}, key=len, reverse=True):
        # Whole words only: a local part "a" must not eat every "a" of the server's words.
        pattern = rf"(?<!\w){re.escape(part)}(?!\w)"
        cleaned = re.sub(pattern, ADDRESS_MARK, cleaned, flags=re.IGNORECASE)
    cleaned = _ADDRESS_LIKE.sub(ADDRESS_MARK, cleaned)
    return cleaned.replace(f"<{ADDRESS_MARK}>", ADDRESS_MARK)


def mail_failure_reason(exc: BaseException, address: str) -> str:
    """A short reason for a failed send to `address`, safe to store and log."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = [_answer(code, words, address) for code, words in exc.recipients.values()]
        reason = f"recipient refused ({'; '.join(answers) or 'no reason given'})"
    elif isinstance(exc, smtplib.SMTPResponseException):
        kind = "sender refused" if isinstance(exc, smtplib.SMTPSenderRefused) else "server said"
        reason = f"{kind} ({_answer(exc.smtp_code, exc.smtp_error, address)})"
    else:
        reason = f"{type(exc).__name__}: {redact(str(exc), address)}"
    return redact(reason, address)[:_LIMIT]


def _answer(code: int, words: bytes | str, address: str) -> str:
    text = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
    text = " ".join(text.split())  # servers send several lines
    return f"{code} {redact(text, address)}".strip()
