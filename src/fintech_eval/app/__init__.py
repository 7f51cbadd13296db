"""The application layer: a :class:`Workspace` (the database opened once, frameworks cached) and the use-case
functions of an evaluation round that take it and return data, never print. The CLI is a thin layer over
them; the web platform calls the same functions.

* :mod:`.registers`: institutions, key-technology enterprises, vendors and regions registered from a file
  (all-or-nothing, audited, every problem located);
* :mod:`.sizes`: §4 size attributes with explicit units, the sizes a sample draws on, the sample;
* :mod:`.keytech`: the Q-A1B2 region figures from the key-technology enterprise register;
* :mod:`.campaigns`: a round's sample, deadline and who has answered (reporting and on-time rates);
* :mod:`.templates`: the questionnaires of a campaign (or a period), one workbook per entity, and their index;
* :mod:`.observations`: the stored raw values and the audited history of one;
* :mod:`.derived`: J derived, H and Q rolled up, stored with fingerprints; which stored values are stale;
* :mod:`.runs`: scoring stored data (recorded evaluation runs) and publishing one.
* :mod:`.submissions`: returns (an entity's answers for a campaign) submitted, reviewed and accepted, with
  their history and idempotency keys.
"""

from .workspace import Workspace

__all__ = ["Workspace"]
