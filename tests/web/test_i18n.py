"""The pages' words: every ``t.<key>`` a template reads exists (Jinja renders a missing one as nothing, silently),
and every table of words (a key whose value is a mapping, e.g. ``roles``) has the same entries in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import fintech_eval.web.routes as routes_pkg
from fintech_eval.web.app import create_app  # noqa: F401  (imports every page module, which add their words)
from fintech_eval.web.i18n import LANGS, TEXT

TEMPLATES = Path(routes_pkg.__file__).parent.parent / "templates"
KEY = re.compile(r"\bt\.([A-Za-z_][A-Za-z0-9_]*)|\bt\[['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]\]")


def test_every_word_a_template_reads_exists_in_both_languages():
    read = {(p.name, a or b) for p in TEMPLATES.glob("*.j2") for a, b in KEY.findall(p.read_text(encoding="utf-8"))}
    assert len(read) > 100  # the pattern finds the templates' words
    missing = sorted((name, key, lang) for name, key in read for lang in LANGS if key not in TEXT[lang])
    assert not missing, missing


#: tables whose English is the code itself, but where a name differs from it (``ret_units``: 件 in Chinese, claim in English)
CODE_IS_ENGLISH = {"ret_units"}


def test_tables_of_words_have_the_same_entries_in_both_languages():
    zh, en = TEXT["zh"], TEXT["en"]
    assert set(zh) == set(en)
    differ = {k: set(zh[k]) ^ set(en[k]) for k in zh
              if isinstance(zh[k], dict) and k not in CODE_IS_ENGLISH and set(zh[k]) != set(en[k])}
    assert not differ, differ
