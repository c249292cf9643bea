"""registry's SQL for the annual form: a discharge year's cohort, as the form needs it."""

from datetime import date

from services.registry.form_domain import Member
from shared.db import Store


class FormStore(Store):
    def form_cohort(self, year, placement, closed_stage, counties=None, stations=None):
        """``[(Member without its area, county_code, station_code)]``: the veterans
        discharged in ``year`` and placed as ``placement``, within the counties (None: all)
        and stations (None: any). Each carries the kinds of the businesses
        they founded that are not ``closed_stage``, whether they took training, and whether
        they were recognised as in employment difficulty and helped."""
        where = ["v.discharged_on >= %s", "v.discharged_on < %s", "v.discharge_type = %s"]
        args: list = [date(year, 1, 1), date(year + 1, 1, 1), placement]
        if counties is not None:
            where.append("v.county_code = ANY(%s)")
            args.append(list(counties))
        if stations is not None:
            where.append("v.station_code = ANY(%s)")
            args.append(list(stations))
        with self.cursor() as cur:
            cur.execute(
                "SELECT v.id, v.county_code, v.station_code, v.employment_status, v.trained,"
                " coalesce((v.employment_difficulty ->> 'recognised')::boolean, false),"
                " coalesce(jsonb_array_length(v.employment_difficulty -> 'help'), 0) > 0,"
                " ARRAY(SELECT DISTINCT e.kind FROM enterprise_founders f"
                "       JOIN enterprises e ON e.id = f.enterprise_id"
                "       WHERE f.veteran_id = v.id AND e.stage <> %s ORDER BY e.kind)"
                f" FROM veterans v WHERE {' AND '.join(where)} ORDER BY v.registered_at, v.id",
                [closed_stage, *args],
            )
            return [
                (
                    Member(str(id_), "", status, tuple(kinds), trained, difficulty, helped),
                    county,
                    station,
                )
                for id_, county, station, status, trained, difficulty, helped, kinds in cur
            ]
