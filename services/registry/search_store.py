"""registry's SQL for finding veterans' cards (filters, totals, stable paging) and for
counting the ledger by county (statistics). Every value a client sent goes in as a
parameter; only fixed clause text is formatted into the statements."""

from datetime import date
from typing import Any

from services.registry.card_store import COLUMNS, SELECT, veteran_from
from shared.db import Store, like_containing
from shared.months import month_sql


def where_clause(criteria):
    """``(" WHERE …", args)`` for loaded search criteria (absent or None: no condition).
    Lists of counties, statuses and willingness match any; lists of skills and needs
    match a card that has all of them (array containment, which the GIN indexes serve)."""
    where: list[str] = []
    args: list[Any] = []

    def add(clause, *values):
        where.append(clause)
        args.extend(values)

    def one_of(column, values):
        # One value as "=": a btree on (county_code, employment_status, registered_at, id)
        # then hands rows over already in page order; "= ANY" cannot.
        if len(values) == 1:
            add(f"{column} = %s", values[0])
        else:
            add(f"{column} = ANY(%s)", list(values))

    if criteria.get("county_code") is not None:
        one_of("county_code", criteria["county_code"])
    if criteria.get("stations") is not None:  # a station clerk's stations (a card with none:
        add("station_code = ANY(%s)", list(criteria["stations"]))  # outside)
    if criteria.get("employment_status"):
        one_of("employment_status", criteria["employment_status"])
    if criteria.get("willingness"):
        one_of("willingness", criteria["willingness"])
    if criteria.get("skill"):
        add("skills @> %s::text[]", list(criteria["skill"]))
    if criteria.get("service_need"):
        add("service_needs @> %s::text[]", list(criteria["service_need"]))
    if criteria.get("discharged_from_year") is not None:
        add("discharged_on >= %s", date(criteria["discharged_from_year"], 1, 1))
    if criteria.get("discharged_to_year") is not None:
        add("discharged_on < %s", date(criteria["discharged_to_year"] + 1, 1, 1))
    if criteria.get("name"):
        name = criteria["name"]
        # Han characters have no case: plain LIKE then, cheaper per row than ILIKE. The
        # pieces index (migration 005) finds the candidates for a fragment of any length;
        # LIKE keeps those that hold it as a whole.
        operator = "LIKE" if name.lower() == name.upper() else "ILIKE"
        add(
            f"name_grams(name) @> name_query_grams(%s) AND name {operator} %s",
            name,
            like_containing(name),
        )
    return (" WHERE " + " AND ".join(where)) if where else "", args


def county_clause(counties, column="county_code", stations=None, station_column="station_code"):
    """``(" WHERE …", args)`` for rows in ``counties`` and ``stations`` (None: no limit)."""
    where, args = [], []
    if counties is not None:
        where.append(f"{column} = ANY(%s)")
        args.append(list(counties))
    if stations is not None:
        where.append(f"{station_column} = ANY(%s)")
        args.append(list(stations))
    return (" WHERE " + " AND ".join(where)) if where else "", args


class SearchStore(Store):
    def search_veterans(self, criteria, limit, offset):
        """``(total, veterans)``: how many cards match, and the page of them in
        registration order (ties broken by id, so pages never overlap or skip)."""
        where, args = where_clause(criteria)
        # A plain cursor, not dict_cursor(): RealDictCursor's per-column bookkeeping
        # cost ~1 ms more per page of 50 cards than the rows' own query (measured).
        with self.cursor() as cur:
            cur.execute(
                f"{SELECT}{where} ORDER BY registered_at, id LIMIT %s OFFSET %s",
                args + [limit, offset],
            )
            rows = cur.fetchall()
            if len(rows) < limit and (rows or not offset):
                total = offset + len(rows)  # the last page: no need to count
            else:
                cur.execute(f"SELECT count(*) FROM veterans{where}", args)
                total = cur.fetchone()[0]
        return total, [veteran_from(zip(COLUMNS, row, strict=True)) for row in rows]

    def veteran_counts(self, counties, needs, stations=None):
        """``({(employment_status, willingness): count}, {need: count})`` over the
        counties and stations (None: all), in one pass over the cards: a veteran counts
        once for each of ``needs`` they have."""
        where, args = county_clause(counties, stations=stations)
        needs = list(needs)
        per_need = "".join(", count(*) FILTER (WHERE %s = ANY(service_needs))" for _ in needs)
        by_state, by_need = {}, dict.fromkeys(needs, 0)
        with self.cursor() as cur:
            cur.execute(
                f"SELECT employment_status, willingness, count(*){per_need}"
                f" FROM veterans{where} GROUP BY employment_status, willingness",
                needs + args,
            )
            for status, willingness, n, *with_need in cur.fetchall():
                by_state[(status, willingness)] = n
                for need, k in zip(needs, with_need, strict=True):
                    by_need[need] += k
        return by_state, by_need

    def enterprise_counts(self, counties, stations=None):
        """``{(kind, stage): count}`` of enterprises' booklets over the counties; with
        ``stations``, only those with a founder whose card is at one of them."""
        where, args = county_clause(counties)
        if stations is not None:
            where += (" AND " if where else " WHERE ") + (
                "EXISTS (SELECT 1 FROM enterprise_founders f JOIN veterans v"
                " ON v.id = f.veteran_id WHERE f.enterprise_id = enterprises.id"
                " AND v.station_code = ANY(%s))"
            )
            args.append(list(stations))
        with self.cursor() as cur:
            cur.execute(
                f"SELECT kind, stage, count(*) FROM enterprises{where} GROUP BY kind, stage", args
            )
            return {(kind, stage): n for kind, stage, n in cur.fetchall()}

    def states_by_month(self, counties, months, month_ends, tz_name, stations=None):
        """``[(month, employment_status, willingness, n)]`` (a state may come in more than
        one row: add them up): for each month (``months``, oldest first, ending at the
        instants ``month_ends``), the cards registered before its end counted by the status
        and willingness they had at that end. One query for the twelve months.

        A card none of whose two fields changed at or after the first month's end had its
        state of now at every month end: those are counted once per registration month
        (the bureau's, ``tz_name``) and added up over the months after. Only the cards that
        did change are looked up month by month: a field's value at an instant is the old
        value of its first change at or after it (every change is in the history), else
        its value now. ``stations`` (None: no limit) narrows it as ``counties`` do."""
        scope = "" if counties is None else " AND v.county_code = ANY(%(c)s)"
        if stations is not None:
            scope += " AND v.station_code = ANY(%(s)s)"
        as_of = (
            "coalesce((SELECT h.old_value #>> '{{}}' FROM veteran_history h"
            " WHERE h.veteran_id = v.id AND h.field = '{field}' AND h.at >= m.ends_at"
            " ORDER BY h.at, h.id LIMIT 1), v.{field})"
        )
        with self.cursor() as cur:
            # The twelve-fold join's row estimates start JIT compilation, which cost more
            # than the query itself (1.1 s of 1.5 s on 100,000 cards, measured): off, for
            # this transaction only (as bulk_store's duplicate probes).
            cur.execute(
                "SET LOCAL jit = off;"
                " WITH m (month, ends_at) AS ("
                "   SELECT * FROM unnest(%(months)s::text[], %(ends)s::timestamptz[])),"
                " changed AS (SELECT DISTINCT veteran_id FROM veteran_history"
                "   WHERE field IN ('employment_status', 'willingness') AND at >= %(first_end)s),"
                " steady AS (SELECT"
                f"   {month_sql('v.registered_at')} AS registered,"
                "   v.employment_status, v.willingness, count(*) AS n FROM veterans v"
                f"   WHERE v.registered_at < %(last_end)s{scope}"
                "   AND v.id NOT IN (SELECT veteran_id FROM changed) GROUP BY 1, 2, 3)"
                " SELECT m.month, s.employment_status, s.willingness, sum(s.n)::int"
                " FROM m JOIN steady s ON s.registered <= m.month GROUP BY 1, 2, 3"
                " UNION ALL"
                " SELECT m.month, a.status, a.willingness, count(*)::int FROM m"
                " JOIN veterans v ON v.registered_at < m.ends_at"
                f"   AND v.id IN (SELECT veteran_id FROM changed){scope}"
                f" CROSS JOIN LATERAL (SELECT {as_of.format(field='employment_status')}"
                f"   AS status, {as_of.format(field='willingness')} AS willingness) a"
                " GROUP BY 1, 2, 3",
                {
                    "months": list(months),
                    "ends": list(month_ends),
                    "first_end": month_ends[0],
                    "last_end": month_ends[-1],
                    "tz": tz_name,
                    "c": None if counties is None else list(counties),
                    "s": None if stations is None else list(stations),
                },
            )
            return [tuple(row) for row in cur.fetchall()]
