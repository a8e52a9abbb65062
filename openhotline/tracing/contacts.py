"""Abuse contacts as RDAP and people write them, made into addresses a mail server takes.

RDAP answers carry whatever the registry holds: two addresses in one string, a display
name, `mailto:`, a non-ASCII local part. Each is split (`email.utils.getaddresses`),
checked and normalised here; what cannot be sent is named, never passed to the mailer.
Without SMTPUTF8 (which we do not ask of strangers' servers) a local part must be ASCII;
a non-ASCII domain is IDNA-encoded.
"""

import re
from dataclasses import dataclass
from email.utils import getaddresses

import idna

# RFC 5322 dot-atom text: what an unquoted local part may hold.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = re.compile(rf"^{_ATEXT}(\.{_ATEXT})*$")
# Separators people put between addresses that getaddresses does not know.
_SEPARATORS = re.compile(r"[;\s]+(?=[^\s;]*@)")


@dataclass(frozen=True)
class Contact:
    role: str  # network, registrar, upstream, police, partner
    address: str  # normalised, sendable


@dataclass(frozen=True)
class Refused:
    role: str
    text: str  # as given
    why: str


def normalise(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(sendable addresses, [(piece, why not)]) found in one contact string."""
    text = (text or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not text:
        return [], []
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        # Line breaks in a contact are a header injection attempt or a broken record.
        return [], [(text, "control characters in the contact")]
    good: list[str] = []
    bad: list[tuple[str, str]] = []
    # "a@x; b@y" and "a@x b@y" are lists too; commas getaddresses splits itself.
    if "<" not in text and '"' not in text:
        text = _SEPARATORS.sub(", ", text)
    for _name, address in getaddresses([text]):
        address = address.strip()
        if not address:
            continue
        checked, why = _check(address)
        if checked and checked not in good:
            good.append(checked)
        elif why:
            bad.append((address, why))
    if not good and not bad:
        bad.append((text, "not an e-mail address"))
    return good, bad


def _check(address: str) -> tuple[str, str]:
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "", "not an e-mail address"
    if not local.isascii():
        return "", "the local part is not ASCII (the mail server would need SMTPUTF8)"
    if not _DOT_ATOM.match(local):
        return "", "the local part has characters a plain address cannot hold"
    try:
        ascii_domain = idna.encode(domain.rstrip("."), uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        return "", f"the domain is not a valid name ({exc})"
    if "." not in ascii_domain:
        return "", "the domain has no dot"
    address = f"{local}@{ascii_domain.lower()}"
    if len(address) > 254:
        return "", "longer than 254 characters"
    return address, ""


def candidates(groups: list[tuple[str, list[str]]]) -> tuple[list[Contact], list[Refused]]:
    """Every sendable contact of [(role, [contact strings])], in order, each address once;
    and what was refused, with why."""
    found: list[Contact] = []
    refused: list[Refused] = []
    seen: set[str] = set()
    for role, texts in groups:
        for text in texts:
            good, bad = normalise(str(text))
            refused += [Refused(role, piece, why) for piece, why in bad]
            for address in good:
                if address not in seen:
                    seen.add(address)
                    found.append(Contact(role, address))
    return found, refused


def describe_refused(refused: list[Refused]) -> str:
    return "; ".join(f"{r.role} contact {r.text!r} not sendable: {r.why}" for r in refused)
