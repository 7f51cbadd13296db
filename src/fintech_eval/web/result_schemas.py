"""The API's models of runs' results (``/api/v1/runs/{id}/…``): requests strict like :mod:`.schemas`, answers
as :mod:`fintech_eval.app.results` gives them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .schemas import Out, Request

Block = Literal["J", "H", "Q"]


class RunRequest(Request):
    campaign: int | None = Field(None, ge=1, le=2**63 - 1, description="The campaign to score (may be omitted when there is one).")
    spec: str | None = Field(None, min_length=1, max_length=100,
                             description="A saved spec's name (the server's specs_dir); omit for the default spec of each block.")
    blocks: list[Block] | None = Field(None, min_length=1, max_length=3, description="Only these blocks (default: every block with data).")
    outside_sample: bool = Field(False, description="Also score institutions outside the campaign's sample (returns "
                                 "from outside it, reference data such as listed banks' disclosures); default: the "
                                 "campaign's sample only.")


class PublishRequest(Request):
    peer_visibility: Literal["distribution", "ranking", "none"] = Field(
        "distribution", description="What an institution's submitter sees of its peers: the anonymised distribution "
                                    "of their scores (default), the named ranking, or nothing.")
    lang: Literal["zh", "en"] = Field("zh", description="Language of the reports written on publishing.")
    reports: bool = Field(True, description="Write the run's HTML reports (as `fintech-eval publish`).")


class RankingRow(Out):
    rank: float | None
    entity: str
    name: str
    sector: str | None
    province: str | None = Field(description="GB/T 2260 province code.")
    province_name: str | None
    size_band: Literal["small", "medium", "large"] | None
    score: float | None
    rank_in_sector: float | None
    scores: dict[str, float | None] = Field(description="The level-1 (headline) scores by code.")


class Bin(Out):
    from_: float = Field(alias="from")
    to: float
    count: int


class Distribution(Out):
    n: int
    shown: bool = Field(description="False when the group has fewer than min_peers scores (then no figures).")
    min_peers: int
    q1: float | None = None
    median: float | None = None
    q3: float | None = None
    mean: float | None = None
    histogram: list[Bin] | None = None
    own_percentile: float | None = Field(None, description="Share of the group scoring at most the entity's score.")


class PeersOut(Out):
    entity: str
    name: str
    sector: str | None
    score: float | None
    rank: int | None
    rank_in_sector: int | None
    overall: Distribution
    in_sector: Distribution


class GroupRank(Out):
    group: str | None
    rank: float | None
    of: int


class Aggregate(Out):
    code: str
    name: str
    level: int
    score: float | None
    rank: float | None
    of: int
    median: float | None


class Indicator(Out):
    code: str
    name: str
    parent: str
    rank: float | None
    of: int
    raw: float | None
    score: float | None
    imputed: bool


class ScorecardOut(Out):
    run: int
    block: str
    entity: str
    name: str
    groups: dict[str, str | None]
    score: float | None
    rank: float | None
    of: int
    group_ranks: dict[str, GroupRank]
    aggregates: list[Aggregate]
    strengths: list[Indicator]
    weaknesses: list[Indicator]


class ProvinceValue(Out):
    code: str
    name: str
    value: float | None
    rank: int | None = Field(description="None for a province with too few institutions to rank.")
    institutions: int | None = Field(description="Institutions averaged (block J), else None.")


class MapOut(Out):
    block: Literal["J", "Q"]
    mode: str
    column: str | None
    provinces: list[ProvinceValue]
    unresolved: list[str]


class PlanTask(Out):
    number: int
    code: str
    task: str
    clause: str
    n_linked: int
    n_present: int
    score: float | None
    h_part: float | None
    j_part: float | None
    used: str
    note: str


class FileOut(Out):
    name: str
    block: str
    kind: str
    fmt: str
    lang: str | None
    entity: str | None


class JobResult(Out):
    ref: str = Field(description="What the job made, e.g. run:12.")
    href: str | None = Field(None, description="Its address in the API (e.g. /api/v1/runs/12).")
    page: str | None = Field(None, description="Its page (e.g. /results/12).")


class JobProblem(Out):
    rule: str
    message: str


class JobOut(Out):
    """A background job (``GET /api/v1/jobs/{id}``): poll it until ``state`` is succeeded, failed or cancelled."""

    id: int
    kind: str
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    campaign: int | None
    requested_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    progress: float = Field(description="0-1.")
    step: str | None = Field(description="What it is doing (e.g. scoring block H).")
    cancel_requested: bool
    result: JobResult | None = Field(description="When it succeeded: what it made and where.")
    problem: JobProblem | None = Field(description="When it failed: the rule and message of its error.")
    href: str
    page: str
