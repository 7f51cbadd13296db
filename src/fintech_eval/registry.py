"""Named method registries: a spec names a method, the registry finds its function.

Adding a method is writing one function and decorating it::

    NORMALISERS = Registry("normalise")

    @NORMALISERS.register("minmax", aliases=["n_minmax"])
    def minmax(x, l_u=(0, 100)): ...

The CLI and the docs enumerate ``Registry.names()``, so a registered method is discoverable at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import SpecError


@dataclass
class Entry:
    name: str
    func: Callable[..., Any]
    aliases: tuple[str, ...] = ()
    doc: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


class Registry:
    """A mapping name → function with aliases; unknown names raise a :class:`SpecError` listing the choices."""

    def __init__(self, stage: str):
        self.stage = stage
        self._entries: dict[str, Entry] = {}
        self._alias: dict[str, str] = {}

    def register(self, name: str, *, aliases: list[str] | tuple[str, ...] = (), **meta: Any):
        def deco(func: Callable[..., Any]) -> Callable[..., Any]:
            for key in (name, *aliases):
                if key in self._alias:
                    raise ValueError(f"{self.stage}: method name {key!r} registered twice")
            meta.setdefault("params", {})  # the parameters a spec may give (fintech_eval.methods._frame.Param); none by default
            entry = Entry(name, func, tuple(aliases), (func.__doc__ or "").strip(), dict(meta))
            self._entries[name] = entry
            for key in (name, *aliases):
                self._alias[key] = name
            return func

        return deco

    def entry(self, name: str) -> Entry:
        try:
            return self._entries[self._alias[name]]
        except KeyError:
            raise SpecError(
                f"unknown {self.stage} method {name!r}; choose one of: {', '.join(self.names())}",
                step=self.stage,
                parameter="method",
            ) from None

    def get(self, name: str) -> Callable[..., Any]:
        return self.entry(name).func

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._alias

    def __iter__(self):
        return iter(self._entries.values())
