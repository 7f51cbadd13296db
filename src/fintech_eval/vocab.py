"""One vocabulary for the whole product: sectors, entity kinds, provider types, size attributes and the
statuses of a derived value. Every module (catalog, collection, derivation, store, reports) imports these."""

from __future__ import annotations

#: The financial sectors of JR/T 0201 (institutions are registered in one; H rolls up per sector).
SECTORS: tuple[str, ...] = ("bank", "securities", "insurance", "payment", "other")
#: The kinds of entity a value belongs to: an institution (J), a region (Q), an industry (H).
ENTITY_KINDS: tuple[str, ...] = ("institution", "region", "industry")
#: FinTech service providers (capability evaluation).
PROVIDER_TYPES: tuple[str, ...] = ("comprehensive", "product", "consulting", "outsourcing")
#: Size attributes for JR/T 0201 §4 sampling.
SIZE_ATTRIBUTES: tuple[str, ...] = ("operating_revenue", "market_share", "total_financing", "market_value")

#: Status of a derived indicator value, the same when derived and when stored:
#: ``ok`` a finite value in range; ``flagged`` a finite value outside the declared range (kept, with the
#: reason); ``missing`` an input is missing; ``undefined`` every input present but no finite value (e.g. a
#: zero denominator); ``not_applicable`` the indicator does not apply to the entity's sector.
OK, FLAGGED, MISSING, UNDEFINED, NOT_APPLICABLE = "ok", "flagged", "missing", "undefined", "not_applicable"
VALUE_STATUSES: tuple[str, ...] = (OK, FLAGGED, MISSING, UNDEFINED, NOT_APPLICABLE)
#: The statuses that carry a value (every other status has none: a missing input is never 0).
WITH_VALUE: tuple[str, ...] = (OK, FLAGGED)

#: Review state of a return (one entity's answers for one campaign), as ODK Central and DHIS2 name them:
#: ``draft`` saved, not submitted (or submitted with errors: everything typed kept); ``submitted`` valid and
#: waiting for review; ``returned`` sent back with comments per field; ``resubmitted`` corrected after a
#: return; ``accepted`` its values stored as observations; ``rejected`` refused as a whole (wrong entity…).
#: The transitions between them are one table: ``fintech_eval.app.submissions.TRANSITIONS``.
RETURN_STATES: tuple[str, ...] = ("draft", "submitted", "returned", "resubmitted", "accepted", "rejected")
