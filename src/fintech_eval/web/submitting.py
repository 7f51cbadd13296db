"""The submissions' batch of a server process (run by :class:`~.gather.Gatherer`): each request's caller
authorised, its entity checked, and the returns validated and stored together by
:func:`fintech_eval.app.submissions.submit_many`.

A request with an API token (what a data platform posting its returns uses) reaches the batch with its token
unread (:func:`.auth.require_in_batch`): the batch reads the tokens of all its requests in one query. Every
request gets the answer it would get alone: 401/403 as :func:`.auth.require` words them, 404 for an entity the
caller may not submit for or that is not registered (one answer for both: no existence leak), else its
:class:`~fintech_eval.app.submissions.SubmitResult` or :class:`~fintech_eval.errors.DataError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from ..app.registers import register_entry
from ..app.submissions import SubmitRequest, SubmitResult, submit_many
from ..app.workspace import Workspace
from ..errors import DataError
from .auth import Principal, TokenCaller, authorize_tokens
from .problems import ApiProblem, not_found

KIND = "institution"  # returns answer the framework's questionnaire: institutions' (vendors are rated apart)


@dataclass(frozen=True)
class Submission:
    """A request for the batch: its caller (a principal, or a token to read) and the submission as sent (its
    ``actor`` is set here, from the caller)."""

    caller: Principal | TokenCaller
    request: SubmitRequest


def run_batch(ws: Workspace, items: Sequence[Submission]) -> list[SubmitResult | Exception]:
    """Each item's answer, in order (see the module)."""
    callers: list[Principal | Exception] = [it.caller for it in items]  # type: ignore[misc]
    deferred = [i for i, it in enumerate(items) if isinstance(it.caller, TokenCaller)]
    if deferred:
        for i, p in zip(deferred, authorize_tokens(ws, [items[i].caller for i in deferred]), strict=True):  # type: ignore[misc]
            callers[i] = p
    out: list[SubmitResult | Exception | None] = [None] * len(items)
    ready: list[tuple[int, SubmitRequest]] = []
    for i, (it, p) in enumerate(zip(items, callers, strict=True)):
        if isinstance(p, Exception):
            out[i] = p
            continue
        try:
            ready.append((i, _for(ws, p, it.request)))
        except (ApiProblem, DataError) as exc:
            out[i] = exc
    if ready:
        for (i, _), r in zip(ready, submit_many(ws, [r for _, r in ready]), strict=True):
            out[i] = r
    return out  # type: ignore[return-value]


def _for(ws: Workspace, p: Principal, req: SubmitRequest) -> SubmitRequest:
    """The submission as ``p`` makes it: its own institution (a submitter's, which must be asked by the
    campaign: checked in the batch, ``campaign.not_asked``) or a registered one (staff); else 404."""
    entity = req.entity.strip()
    own = p.entities(KIND)  # a submitter's own institutions were registered when it was bound to them
    if not entity or (own is not None and entity not in own):
        raise not_found(f"institution {entity}")
    if own is None:  # staff: any registered institution
        try:
            register_entry(ws, "institutions", entity)
        except DataError as exc:
            if exc.problems and exc.problems[0].rule == "register.unknown":
                raise not_found(f"institution {entity}") from None
            raise
    return dataclasses.replace(req, entity=entity, actor=p.email, actor_id=p.id, asked_only=own is not None)
