"""The card's policy rules as data: shared/data/card_rules.yaml (the report-in deadline, the
placements open to each rank) and the taxonomy's branch periods, read once into the
``CardRules`` the domain takes."""

from functools import cache
from pathlib import Path

import yaml

from services.registry.domain import CardRules
from shared.taxonomy import Taxonomy

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "card_rules.yaml"


@cache
def load(path: str | None = None) -> CardRules:
    with open(path or DEFAULT_PATH, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    taxonomy = Taxonomy.load()
    placements = {rank: frozenset(codes) for rank, codes in data["placements"]["by_rank"].items()}
    for rank, codes in placements.items():
        unknown = taxonomy.unknown("discharge_type", codes)
        if not taxonomy.is_valid("rank_category", rank) or unknown:
            raise ValueError(f"card_rules.yaml: placements of {rank} name unknown codes")
    days = data["late_report"]["days"]
    if not isinstance(days, int) or days < 0:
        raise ValueError("card_rules.yaml: late_report.days must be a whole number of days")
    return CardRules(
        late_report_days=days, placements=placements, branch_periods=taxonomy.branch_periods()
    )
