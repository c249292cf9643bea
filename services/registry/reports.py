"""The ministry's annual form (``annual_form``): a discharge year's 自主就业 cohort counted
into the form's columns for the prefecture (a row per county), a county (a row per
township station) or a station (a row per village), with the form's checks."""

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, validate

from services.registry import form_domain
from services.registry.form_file import load_definition
from services.registry.worker import RegistryWorker
from shared.auth import STATS
from shared.jurisdiction import (
    TOWNSHIP,
    Jurisdiction,
    county_validator,
    station_validator,
)
from shared.messaging import rpc
from shared.validation import invalid, load

NO_STATION = "（未填服务站）"


class FormQuerySchema(Schema):
    year = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1950, 2100)
    )
    county_code = fields.String(allow_none=True, load_default=None, validate=county_validator())
    station_code = fields.String(allow_none=True, load_default=None, validate=station_validator())


FORM_QUERY = FormQuerySchema()


class ReportRpcs(RegistryWorker):
    @rpc(roles=STATS, stations=True)
    def annual_form(self, year=None, county_code=None, station_code=None):
        """The annual form for veterans discharged in ``year`` (default: last year in the
        bureau's calendar) and placed as 自主就业, over the caller's scope narrowed to a
        county or a station; a station clerk's is its station (it names one when it has
        several). ``ok`` is false when a check fails; ``unclassified`` lists the
        cards (ids) no column takes."""
        today = self.clock.today()
        query = load(
            FORM_QUERY,
            {"year": year, "county_code": county_code, "station_code": station_code},
            today=today,
        )
        year = query["year"] or today.year - 1
        if year > today.year:
            raise invalid({"year": ["is in the future"]})
        definition = load_definition()
        scope, areas, counties, stations, area_of = self.form_scope(
            query["county_code"], query["station_code"]
        )
        rows = self.store.form_cohort(
            year, definition.placement, definition.closed_stage, counties, stations
        )
        members = [
            form_domain.Member(**{**vars(member), "area": area_of(county, station)})
            for member, county, station in rows
        ]
        form = form_domain.compute(year, scope, areas, members, definition)
        return {**form, "generated_at": self.clock.now().isoformat()}

    def form_scope(self, county_code, station_code) -> tuple[dict, list, Any, Any, Callable]:
        """``(scope, rows [(code, name)], counties or None, stations or None,
        area_of(county, station) → the row a card counts in)`` for the level asked."""
        jurisdiction = Jurisdiction.load()
        own = self.auth.station_scope()
        if own is not None and station_code is None:
            if len(own) != 1:
                raise invalid({"station_code": ["name one of your stations"]})
            station_code = own[0]
        if station_code is not None:
            # The checks of stats(station_code=…): of county_code, in the caller's counties
            # and, for a station clerk, within its stations; the station with its villages.
            station_code, covered = self.station_stats_scope(station_code, county_code)
            station = jurisdiction.stations[station_code]
            rows = [(code, jurisdiction.stations[code].name) for code in covered or ()]
            scope: dict[str, str | None] = {
                "level": "station",
                "code": station.code,
                "name": station.name,
            }
            return scope, rows, [station.county_code], covered, lambda county, st: st
        if county_code is not None:
            self.auth.require_county(county_code)
            name = jurisdiction.name_of(county_code) or county_code
            townships = [s for s in jurisdiction.stations_of(county_code) if s.level == TOWNSHIP]
            rows = [(s.code, s.name) for s in townships] + [(county_code, f"{name}{NO_STATION}")]
            scope = {"level": "county", "code": county_code, "name": name}

            def township_of(county, station):
                return county if station is None else jurisdiction.stations[station].township_code

            return scope, rows, [county_code], None, township_of
        counties = self.auth.scope()
        listed = jurisdiction.codes() if counties is None else sorted(counties)
        rows = [(code, jurisdiction.name_of(code) or code) for code in listed]
        scope = {"level": "prefecture", "code": None, "name": jurisdiction.prefecture_name}
        return scope, rows, counties, None, lambda county, station: county
