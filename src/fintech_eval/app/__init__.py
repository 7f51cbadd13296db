"""The application layer: a :class:`Workspace` (the database opened once, frameworks cached) and the use-case
functions of an evaluation round that take it and return data, never print. The CLI is a thin layer over
them; the web platform calls the same functions.

* :mod:`.registers`: institutions and vendors registered from a file (all-or-nothing, audited);
* :mod:`.campaigns`: a round's sample, deadline and who has answered (reporting and on-time rates);
* :mod:`.runs`: scoring stored data (recorded evaluation runs) and publishing one.
* :mod:`.submissions`: returns (an entity's answers for a campaign) submitted, reviewed and accepted, with
  their history and idempotency keys.
"""

from .workspace import Workspace

__all__ = ["Workspace"]
