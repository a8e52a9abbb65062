"""The second language is complete: every message of the public pages is translated."""

import gettext
import re
from pathlib import Path

import openhotline

LOCALE = Path(openhotline.__file__).parent / "locale"


def test_every_french_message_is_translated_and_compiled() -> None:
    po = (LOCALE / "fr/LC_MESSAGES/django.po").read_text()
    entries = re.findall(r'msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', po)
    assert len(entries) > 50
    untranslated = [msgid for msgid, msgstr in entries[1:] if msgstr.strip() == '""']
    assert untranslated == []
    assert "#, fuzzy" not in po
    # The compiled catalogue holds every message of the source catalogue.
    with (LOCALE / "fr/LC_MESSAGES/django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, _msgstr in entries[1:]:
        text = "".join(re.findall(r'"(.*)"', msgid)).replace('\\"', '"')
        assert compiled.gettext(text) != text or text in {"API"}, text
