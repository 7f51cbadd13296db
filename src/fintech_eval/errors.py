"""Typed errors that say where and why.

Every error the product raises for bad input is a :class:`FintechEvalError` carrying a *location*
(file, line, sheet, row, column, node path, indicator code, unit, step, parameter) and the *rule* that
was broken, so that the CLI can print one precise line per problem and scripts can read them as data.

Messages in two languages: ``message`` is English (the CLI's default, and what scripts and tests compare);
a problem of the import path (readers, validation, returns) and of review, registers and accounts (the
application modules behind them) also carries ``message_zh``, its Chinese text,
built at the same place from the same values (never translated afterwards). :meth:`Problem.text` gives the
message in a language, falling back to English where a problem has no Chinese text (problems stored before
there was one, or a rule outside the import path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: characters never printed as they are (they drive terminals or hide text): shown as \\xNN / \\uNNNN
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
SHOWN_CHARS = 60  # a user text quoted in a message: at most this many characters, then its length


def visible(text: str) -> str:
    """``text`` with every control, line-break, zero-width and bidi character written as an escape."""
    if text.isascii() and text.isprintable():
        return text
    return _UNPRINTABLE.sub(lambda m: repr(m.group(0))[1:-1], text)


def shown(value: Any, limit: int = SHOWN_CHARS, lang: str = "en") -> str:
    """A user text for a message: quoted, escaped (:func:`visible`), and cut to ``limit`` characters with
    its length when longer (printing a 100 kB text into a message helps nobody); ``lang``: the language of a
    Chinese message (the length as 共 N 个字符)."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}…（共 {len(text):,} 个字符）" if lang == "zh" else f"{text[:limit]!r}… ({len(text):,} characters)"


def first_of(items: Sequence[Any], limit: int = 10, what: str = "units") -> str:
    """The first ``limit`` items, comma-separated, then `` … (N units)`` when there are more."""
    head = ", ".join(map(str, items[:limit]))
    return head + (f" … ({len(items)} {what})" if len(items) > limit else "")


#: the languages a message is written in (``message`` is English, ``message_zh`` Chinese)
MESSAGE_LANGS = ("en", "zh")


@dataclass(frozen=True)
class Problem:
    """One broken rule at one place. ``where`` keys are free-form but conventional (see module doc);
    ``message_zh``: the message in Chinese, when the rule has one (module doc)."""

    rule: str
    message: str
    where: dict[str, Any] = field(default_factory=dict)
    message_zh: str | None = field(default=None, kw_only=True)

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` (``zh`` or ``en``): English where there is no Chinese text."""
        return self.message_zh if lang == "zh" and self.message_zh else self.message

    def line(self, lang: str = "en") -> str:
        """One line: place, message (in ``lang``), rule. User texts in it are escaped (no control character
        reaches the terminal) and a place longer than 200 characters is cut."""
        loc = ", ".join(f"{k} {_place(v)}" for k, v in self.where.items() if v is not None and v != "")
        msg = self.text(lang)
        text = f"{loc}: {msg} [{self.rule}]" if loc else f"{msg} [{self.rule}]"
        return visible(text)

    def __str__(self) -> str:
        return self.line("en")

    def as_dict(self) -> dict[str, Any]:
        """``rule``, ``message``, ``message_zh`` (only when there is one) and the location keys."""
        zh = {"message_zh": self.message_zh} if self.message_zh else {}
        return {"rule": self.rule, "message": self.message, **zh, **{k: v for k, v in self.where.items()}}

    def __getitem__(self, key: str) -> Any:
        """``p["indicator"]``: the rule, the message or a location key, as in :meth:`as_dict`."""
        return self.as_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.as_dict().get(key, default)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | str) -> Problem:
        """The inverse of :meth:`as_dict` (a plain string, as older results saved, becomes a message)."""
        if isinstance(d, str):
            return cls("warning", d)
        rest = {k: v for k, v in d.items() if k not in ("rule", "message", "message_zh")}
        return cls(str(d.get("rule", "warning")), str(d.get("message", "")), rest, message_zh=d.get("message_zh") or None)


class FintechEvalError(Exception):
    """Base of every error raised for bad input. Holds one or more :class:`Problem`."""

    exit_code = 1

    def __init__(self, problems: Problem | list[Problem] | str, *, rule: str | None = None, zh: str | None = None,
                 **where: Any):
        """``problems``: the problems, or one message (English) with its ``rule``, Chinese text ``zh`` and place."""
        if isinstance(problems, str):
            problems = [Problem(rule=rule or type(self).__name__, message=problems, where=where, message_zh=zh)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class FrameworkError(FintechEvalError):
    """A framework or extension file is malformed (CLI exit code 2)."""

    exit_code = 2


class FormulaError(FrameworkError):
    """An indicator formula does not parse or names an unknown variable."""


class SpecError(FintechEvalError):
    """An evaluation spec is malformed: names the step and the parameter."""

    exit_code = 2


class DataError(FintechEvalError):
    """Input data breaks a rule: names the file, row, column, indicator or unit."""

    exit_code = 2


class MethodError(FintechEvalError):
    """A method cannot run on this input (e.g. geometric mean of zeros), naming the method and unit."""

    exit_code = 2


class InconsistentJudgementError(MethodError):
    """An AHP pairwise matrix has consistency ratio CR >= 0.1 (CLI exit code 3)."""

    exit_code = 3


def _place(value: Any, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def closest(name: object, choices: Iterable[str]) -> str | None:
    """The choice a mistyped ``name`` most likely meant (difflib, cutoff 0.6), for a did-you-mean; None if none."""
    import difflib

    hits = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return hits[0] if hits else None
