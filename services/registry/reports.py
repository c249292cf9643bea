"""The ministry's annual form (``annual_form``): a discharge year's 自主就业 cohort counted
into the form's columns for the prefecture (a row per county), a county (a row per
township station) or a station (a row per village), with the form's checks."""

from marshmallow import Schema, fields, validate

from services.registry import form_domain
from services.registry.form_file import load_definition
from services.registry.worker import RegistryWorker
from shared.auth import STATS
from shared.jurisdiction import Jurisdiction, county_validator
from shared.messaging import rpc
from shared.validation import invalid, load

NO_STATION = "（未填服务站）"


class FormQuerySchema(Schema):
    year = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1950, 2100)
    )
    county_code = fields.String(allow_none=True, load_default=None, validate=county_validator())
    station_code = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(equal=12)
    )


FORM_QUERY = FormQuerySchema()


class ReportRpcs(RegistryWorker):
    @rpc(roles=STATS)
    def annual_form(self, year=None, county_code=None, station_code=None):
        """The annual form for veterans discharged in ``year`` (default: last year in the
        bureau's calendar) and placed as 自主就业, over the caller's scope narrowed to a
        county or a station. ``ok`` is false when a check fails; ``unclassified`` lists the
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

    def form_scope(self, county_code, station_code):
        """``(scope, rows [(code, name)], counties or None, station prefixes or None,
        area_of(county, station) → the row a card counts in)`` for the level asked."""
        jurisdiction = Jurisdiction.load()
        if station_code is not None:
            station = jurisdiction.station(station_code)
            if station is None:
                raise invalid({"station_code": ["not a station of this prefecture"]})
            self.auth.require_county(station.county_code)
            villages = [
                s
                for s in jurisdiction.stations_of(station.county_code)
                if s.code != station.code and s.township_code == station.code
            ]
            rows = [(station.code, station.name), *((s.code, s.name) for s in villages)]
            scope = {"level": "station", "code": station.code, "name": station.name}
            prefix = station.code[:9] if villages or station.level == "township" else station.code
            return scope, rows, [station.county_code], [prefix], lambda county, st: st
        if county_code is not None:
            self.auth.require_county(county_code)
            name = jurisdiction.name_of(county_code)
            townships = [s for s in jurisdiction.stations_of(county_code) if s.level == "township"]
            rows = [(s.code, s.name) for s in townships] + [(county_code, f"{name}{NO_STATION}")]
            scope = {"level": "county", "code": county_code, "name": name}

            def township_of(county, station):
                return county if station is None else station[:9] + "000"

            return scope, rows, [county_code], None, township_of
        counties = self.auth.scope()
        listed = jurisdiction.codes() if counties is None else sorted(counties)
        rows = [(code, jurisdiction.name_of(code)) for code in listed]
        scope = {"level": "prefecture", "code": None, "name": jurisdiction.prefecture_name}
        return scope, rows, counties, None, lambda county, station: county
