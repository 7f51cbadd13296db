"""One vocabulary for the whole product: sectors, entity kinds, provider types, size attributes and the
statuses of a derived value. Every module (catalog, collection, derivation, store, reports) imports these."""

from __future__ import annotations

#: The financial sectors of JR/T 0201 (institutions are registered in one; H rolls up per sector).
SECTORS: tuple[str, ...] = ("bank", "securities", "insurance", "payment", "other")
#: The kinds of entity a value belongs to: an institution (J), a region (Q), an industry (H).
ENTITY_KINDS: tuple[str, ...] = ("institution", "region", "industry")
#: FinTech service providers (capability evaluation).
PROVIDER_TYPES: tuple[str, ...] = ("comprehensive", "product", "consulting", "outsourcing")
#: Size attributes for JR/T 0201 §4 sampling (营业收入、市场占有量、融资总额、上市市值), in the standard's order.
SIZE_ATTRIBUTES: tuple[str, ...] = ("operating_revenue", "market_share", "total_financing", "market_value")
#: The unit each size attribute is stored in: money in 元 (yuan), the market share as a fraction in [0, 1].
SIZE_UNITS: dict[str, str] = {"operating_revenue": "元", "market_share": "fraction", "total_financing": "元",
                              "market_value": "元"}
#: The registers a round draws on: licensed institutions and FinTech key-technology enterprises (the two
#: populations JR/T 0201 §4 samples), technology vendors (capability ratings), regions (block Q).
REGISTERS: tuple[str, ...] = ("institutions", "key-tech", "vendors", "regions")
#: The kinds of registered entity that carry size attributes (§4 samples both).
SIZED_KINDS: tuple[str, ...] = ("institution", "enterprise")
#: Status of a registered enterprise: ``active`` ones are counted and sampled; ``closed`` ones stay for history.
ENTITY_STATUSES: tuple[str, ...] = ("active", "closed")
#: FinTech key technologies (JR/T 0201 §9.2.2: 大数据、云计算、区块链、人工智能、信息安全、物联网及 5G, "包含但不限于").
KEY_TECHNOLOGIES: tuple[str, ...] = ("big_data", "cloud_computing", "blockchain", "artificial_intelligence",
                                     "information_security", "iot", "5g", "other")

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
