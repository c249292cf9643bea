"""Finding veterans' cards (``search_veterans``) and the registry's statistics (``stats``):
the RPCs, their input schemas and the arithmetic of the bureau's indicators."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from services.registry import domain
from services.registry.worker import RegistryWorker
from shared.auth import READ, STATS
from shared.errors import Forbidden, InvalidInput
from shared.jurisdiction import Jurisdiction, county_validator, station_validator, within_any
from shared.messaging import rpc
from shared.months import ends, last_months, series, zone_name
from shared.taxonomy import Taxonomy, code_of
from shared.validation import invalid, load, load_page

FIRST_YEAR, LAST_YEAR = 1900, 2100
OUTSIDE_STATIONS = "the station named is outside this operator's stations"


class OneOrMany(fields.List):
    """One value or a list of them; loads as a list. A bad single value is reported
    under the field's own name, a bad list item under ``field.<index>``."""

    def __init__(self, inner, max_items, **kwargs):
        super().__init__(inner, validate=validate.Length(min=1, max=max_items), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return [self.inner.deserialize(value, **kwargs)]
        if not isinstance(value, (list, tuple)):
            raise ValidationError("must be a code or a list of codes")
        return super()._deserialize(value, attr, data, **kwargs)


def one_or_many(category, max_items=10):
    return OneOrMany(fields.String(validate=code_of(category)), max_items, allow_none=True)


def check_name(value):
    if not 1 <= len(value.strip()) <= 50:
        raise ValidationError("must be 1 to 50 characters")


def year():
    return fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR)
    )


class VeteranFiltersSchema(Schema):
    """Every filter is optional; None means "not filtering". Unknown keys are refused."""

    county_code = OneOrMany(fields.String(validate=county_validator()), 20, allow_none=True)
    # a township matches its villages' cards too
    station_code = OneOrMany(fields.String(validate=station_validator()), 20, allow_none=True)
    employment_status = one_or_many("employment_status")
    willingness = one_or_many("willingness")
    service_need = one_or_many("service_needs")
    skill = one_or_many("skills")
    discharged_from_year = year()
    discharged_to_year = year()
    name = fields.String(allow_none=True, validate=check_name)

    @validates_schema
    def check_years(self, data, **kwargs):
        first, last = data.get("discharged_from_year"), data.get("discharged_to_year")
        if first is not None and last is not None and first > last:
            raise ValidationError("is after discharged_to_year", "discharged_from_year")

    @post_load
    def drop_absent(self, data, **kwargs):
        if data.get("name") is not None:
            data["name"] = data["name"].strip()
        return {key: value for key, value in data.items() if value is not None}


FILTERS_INPUT = VeteranFiltersSchema()


class StationStatsSchema(Schema):
    station_code = fields.String(allow_none=True, load_default=None, validate=station_validator())


STATION_STATS_INPUT = StationStatsSchema()
# Filters whose values are personal: an audit row says that they were used, not what they
# held (the others hold codes and years).
PERSONAL_FILTERS = ("name",)


def load_search(filters, page, page_size):
    """``(criteria, page, page_size)``, or one ``InvalidInput`` naming every bad field."""
    errors = {}
    criteria = {}
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        errors["filters"] = ["must be an object of filters"]
    else:
        try:
            criteria = load(FILTERS_INPUT, filters)
        except InvalidInput as exc:
            errors.update(exc.errors)
    try:
        page, page_size = load_page(page, page_size)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise invalid(errors)
    return criteria, page, page_size


def search_audit(criteria, page, page_size, rows, total):
    """What the audit keeps of one search: the filters given, by key, with the values of
    those that hold codes or years; the page; how many cards it returned of how many."""
    return {
        "filter_keys": sorted(criteria),
        "filters": {
            key: value for key, value in sorted(criteria.items()) if key not in PERSONAL_FILTERS
        },
        "page": page,
        "page_size": page_size,
        "rows": rows,
        "total": total,
    }


class SearchRpcs(RegistryWorker):
    @rpc(roles=READ, stations=True)
    def search_veterans(self, filters=None, page=1, page_size=50):
        """Cards matching every filter, in registration order, one page of them; a county
        clerk only ever sees their own counties, a station clerk their own stations."""
        criteria, page, page_size = load_search(filters, page, page_size)
        given = dict(criteria)
        criteria["county_code"] = self.counties_in_scope(criteria.get("county_code"))
        stations = self.stations_searched(criteria.pop("station_code", None))
        if stations is not None:
            criteria["stations"] = stations
        total, veterans = self.store.search_veterans(
            criteria, limit=page_size, offset=(page - 1) * page_size
        )
        # A page of cards is a bulk read (an export is a run of them): one audit row each.
        self.store.audit(
            self.auth.operator,
            "search_veterans",
            "veteran",
            None,
            self.clock.now(),
            details=search_audit(given, page, page_size, len(veterans), total),
        )
        return {
            "items": [domain.present(v) for v in veterans],
            "total": total,
            "page": page,
            "page_size": page_size,
        }

    @rpc(roles=STATS, stations=True)
    def stats(self, county_code=None, station_code=None):
        """The ledger's indicators for one county, or one station (a township rolls up its
        villages), or everything the caller sees; a station clerk's only its stations'.
        Enterprises count by county, or at stations by their founders' cards."""
        county_code, counties, listed = self.stats_scope(county_code)
        station_code, stations = self.station_stats_scope(station_code, county_code)
        needs = sorted(Taxonomy.load().codes("service_needs"))
        by_state, by_need = self.store.veteran_counts(counties, needs, stations)
        reply = indicators(by_state, by_need, self.store.enterprise_counts(counties, stations))
        months = last_months(self.clock.today())
        states = self.store.states_by_month(
            counties, months, ends(months, self.clock.tz), zone_name(self.clock.tz), stations
        )
        return {
            "county_code": county_code,
            "counties": listed,
            "station_code": station_code,
            "stations": stations,
            **reply,
            "by_month": employment_by_month(states, months),
        }

    def station_stats_scope(self, station_code, county_code):
        """``(station_code, the stations counted or None for no limit)``: the station asked
        for (in the caller's counties and, for a station clerk, within their stations, else
        ``Forbidden`` naming neither) with its villages, or a station clerk's own."""
        station_code = load(STATION_STATS_INPUT, {"station_code": station_code})["station_code"]
        if station_code is None:
            return None, self.stations_in_scope()
        jurisdiction = Jurisdiction.load()
        county = jurisdiction.stations[station_code].county_code
        if county_code is not None and county != county_code:
            raise invalid({"station_code": ["is not a station of county_code"]})
        self.auth.require_county(county)
        scope = self.auth.station_scope()
        if scope is not None and not within_any(station_code, scope):
            raise Forbidden(OUTSIDE_STATIONS)
        return station_code, jurisdiction.covered([station_code])

    def stations_searched(self, requested):
        """The station codes a search covers (None: no limit): those asked for with their
        villages, each within a station clerk's own (else ``Forbidden``, naming none); when
        none are asked for, a station clerk's own."""
        if requested is None:
            return self.stations_in_scope()
        scope = self.auth.station_scope()
        if scope is not None and not all(within_any(code, scope) for code in requested):
            raise Forbidden(OUTSIDE_STATIONS)
        return Jurisdiction.load().covered(requested)

    def counties_in_scope(self, requested):
        """The counties a read may cover: those asked for, each of which must be the
        caller's (else ``Forbidden``); when none are asked for, the caller's own (None: all)."""
        if requested is None:
            return self.auth.scope()
        for code in requested:
            self.auth.require_county(code)
        return list(requested)


def indicators(veteran_counts, need_counts, enterprise_counts, taxonomy=None):
    """The bureau's figures from raw counts: ``veteran_counts`` maps (employment_status,
    willingness) to a count, ``need_counts`` need → count, ``enterprise_counts`` (kind,
    stage) → count. Every known code appears, zero when nobody has it.

    The employment-and-entrepreneurship rate is working / base, where base is everyone
    who wants a job or a business or already works (employed, self-employed, flexible,
    public-welfare post) and working is those of them who work."""
    taxonomy = taxonomy or Taxonomy.load()
    by_status = _zeros(taxonomy.codes("employment_status"))
    by_willingness = _zeros(taxonomy.codes("willingness"))
    working = base = 0
    for (status, willingness), n in veteran_counts.items():
        by_status[status] = by_status.get(status, 0) + n
        by_willingness[willingness] = by_willingness.get(willingness, 0) + n
        works, counted = rate_terms(status, willingness)
        working += n * works
        base += n * counted
    by_need = _zeros(taxonomy.codes("service_needs"))
    for need, n in need_counts.items():
        by_need[need] = by_need.get(need, 0) + n
    enterprises = {
        kind: _zeros(taxonomy.codes("enterprise_stage"))
        for kind in sorted(taxonomy.codes("enterprise_kind"))
    }
    for (kind, stage), n in enterprise_counts.items():
        stages = enterprises.setdefault(kind, {})
        stages[stage] = stages.get(stage, 0) + n
    return {
        "veterans": sum(veteran_counts.values()),
        "by_status": by_status,
        "by_willingness": by_willingness,
        "by_need": by_need,
        "enterprises": enterprises,
        "employment_rate": {
            "working": working,
            "base": base,
            "rate": round(working / base, 4) if base else 0,
        },
    }


def rate_terms(status, willingness):
    """``(working?, in the base?)`` of one card for the employment-and-entrepreneurship
    rate: the base is everyone who works or wants a job or a business."""
    works = status in domain.WORKING
    return works, works or willingness in ("job", "business")


def employment_by_month(states, months):
    """``states``: [(month, employment_status, willingness, n)]: the cards registered by
    each month's end, in the state their history says they were in at that moment →
    ``{month: {registered, working, base, employment_rate}}`` for every month of
    ``months``, the rate defined as the headline one (working / base; None when the base
    is empty)."""
    rows: dict[str, dict[str, Any]] = {}
    for month, status, willingness, n in states:
        row = rows.setdefault(month, {"registered": 0, "working": 0, "base": 0})
        works, counted = rate_terms(status, willingness)
        row["registered"] += n
        row["working"] += n * works
        row["base"] += n * counted
    for row in rows.values():
        row["employment_rate"] = round(row["working"] / row["base"], 4) if row["base"] else None
    zeros = {"registered": 0, "working": 0, "base": 0, "employment_rate": None}
    return series(months, rows, zeros)


def _zeros(codes):
    return dict.fromkeys(sorted(codes), 0)
