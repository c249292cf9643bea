"""Importing and exporting the ledger, and looking things up: the card, the booklet, a
worklist, job matches."""

import re
from collections import deque
from contextlib import contextmanager
from pathlib import Path

from vetctl import sheets
from vetctl.client import Failure

BATCH = 500
# Batches sent before the first reply is awaited: the next batch is read and converted
# while registry stores the last.
IN_FLIGHT = 3
ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")


def import_veterans(client, path, report_path, progress=None, batch_size=BATCH):
    """Streams the file through ``register_veterans`` in batches. → counts and the path
    of the report of rejected rows (row, field, message)."""
    headers, numbered, total = _open(path)
    fields, unknown = sheets.columns_for(headers, sheets.VETERAN_HEADERS)
    if "id_number" not in fields:
        raise Failure(f"{path}: no ID number column (身份证号 or id_number)")
    cells = sheets.Cells(fields)
    counts = {"created": 0, "duplicate": 0, "rejected": 0}
    task = progress.add_task("importing veterans", total=total) if progress else None
    with _report(report_path, unknown) as report:
        batch: list = []
        pending: deque = deque()

        def send():
            # Rows refused here stay in the batch (unsent) so the report keeps file order.
            payloads = [payload for _, payload, problems in batch if not problems]
            pending.append(
                (
                    batch,
                    client.call_async("registry", "register_veterans", payloads)
                    if payloads
                    else None,
                )
            )

        def settle():
            sent, reply = pending.popleft()
            _record(sent, reply.result()["results"] if reply else [], counts, report)
            if progress:
                progress.advance(task, len(sent))

        for number, row in numbered:
            problems = cells.problems(row)
            batch.append((number, None if problems else cells.payload(row), problems))
            if len(batch) == batch_size:
                send()
                batch = []
                if len(pending) >= IN_FLIGHT:
                    settle()
        if batch:
            send()
        while pending:
            settle()
    return {**counts, "unknown_columns": unknown, "report": str(report_path)}


@contextmanager
def _report(path, unknown_headers):
    """The rejected-rows report: a CSV writer, headed, the ignored columns first."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        report = sheets.CsvWriter(handle)  # headers and messages echo the file's text
        report.writerow(["row", "field", "message"])
        for header in unknown_headers:
            report.writerow(["header", header, "column not recognised: ignored"])
        yield report


def _record(batch, results, counts, report):
    """Counts and reports a settled batch: ``results`` answer its rows sent, in order."""
    results = iter(results)
    for number, _, problems in batch:
        if problems:
            counts["rejected"] += 1
            report.writerows([number, field, message] for field, message in problems)
            continue
        result = next(results)
        status = result["status"]
        if status == "created":
            counts["created"] += 1
        elif status == "conflict":
            counts["duplicate"] += 1
        else:
            counts["rejected"] += 1
            for field, messages in sorted(result["errors"].items()):
                report.writerow([number, field, " ".join(messages)])


def import_enterprises(client, path, report_path, progress=None):
    """One ``register_enterprise`` per row; founders named by ID number. A credit code
    already registered counts as a duplicate (so a second run creates nothing)."""
    headers, numbered, total = _open(path)
    fields, unknown = sheets.columns_for(headers, sheets.ENTERPRISE_HEADERS)
    cells = sheets.Cells(fields)
    counts = {"created": 0, "duplicate": 0, "rejected": 0}
    task = progress.add_task("importing enterprises", total=total) if progress else None
    with _report(report_path, unknown) as report:
        for number, row in numbered:
            problems = cells.problems(row)
            if not problems:
                data = cells.payload(row)
                problems = _founders(client, data)
            if problems:
                counts["rejected"] += 1
                report.writerows([number, field, message] for field, message in problems)
            else:
                _register_enterprise(client, number, data, counts, report)
            if progress:
                progress.advance(task, 1)
    return {**counts, "unknown_columns": unknown, "report": str(report_path)}


def _founders(client, data):
    numbers = data.pop("founder_id_numbers", [])
    if not numbers:
        return [("founder_id_numbers", "at least one founder's ID number is required")]
    data["founder_ids"], problems = [], []
    for position, number in enumerate(numbers):
        try:
            data["founder_ids"].append(
                client.call("registry", "find_veteran_by_id_number", number)["id"]
            )
        except Failure as exc:
            problems.append((f"founder_id_numbers.{position}", _reason(exc)))
    return problems


def _register_enterprise(client, number, data, counts, report):
    from shared.errors import Conflict, InvalidInput

    if not data.get("uscc") and _known_business(client, data):
        counts["duplicate"] += 1  # an individual business has no credit code to clash on
        return
    try:
        client.proxy.registry.register_enterprise(data)
        counts["created"] += 1
    except Conflict:
        counts["duplicate"] += 1
    except InvalidInput as exc:
        counts["rejected"] += 1
        report.writerows(
            [number, field, " ".join(messages)] for field, messages in sorted(exc.errors.items())
        )


def _known_business(client, data):
    """A business of this name, county and founder is registered already."""
    if not data.get("name") or not data.get("county_code") or not data.get("founder_ids"):
        return False
    try:
        found = client.call(
            "registry",
            "search_enterprises",
            {
                "name": data["name"],
                "county_code": data["county_code"],
                "founder_id": data["founder_ids"][0],
            },
            1,
            50,
        )
    except Failure:  # a bad county or name: the registration will say so
        return False
    return any(item["name"] == data["name"].strip() for item in found["items"])


def _reason(failure):
    message = failure.format_message()
    return message.split(": ", 1)[1] if ": " in message else message


def _open(path):
    try:
        headers, numbered, total = sheets.rows(path)
    except sheets.SheetError as exc:
        raise Failure(str(exc)) from None
    return headers, _one_line(numbered), total


def _one_line(numbered):
    """The rows; a file found unreadable part way (a CSV quote left open) is one line too."""
    try:
        yield from numbered
    except sheets.SheetError as exc:
        raise Failure(str(exc)) from None


EXPORT_COLUMNS = (
    "id",
    "id_number",
    "name",
    "county_code",
    "station_code",
    "gender",
    "birth_date",
    "discharged_on",
    "discharge_type",
    "skills",
    "willingness",
    "employment_status",
    "service_needs",
    "registered_at",
    "political_status",
    "preferential_card_number",  # masked, as every list reply has it
    "honours",
    "health",
    "disability_grade",
    "employment_difficulty",
    "reported_on",
    "hukou_place",
    "placement_place",
    "collected_by",
    "verified_by",
    "verified_at",
    "trained",
    "flags",
)


def export_veterans(client, path, fmt, county_code=None, status=None, station_code=None):
    """Every veteran matching, page by page: the list form registry gives (ID numbers
    masked, no phone or address), each page audited by registry as a search."""
    filters = {
        key: value
        for key, value in (
            ("county_code", county_code),
            ("employment_status", status),
            ("station_code", station_code),
        )
        if value
    }

    def records():
        page = 1
        while True:
            reply = client.call("registry", "search_veterans", filters, page, 200)
            for veteran in reply["items"]:
                yield [_cell(veteran.get(column)) for column in EXPORT_COLUMNS]
            if page * 200 >= reply["total"]:
                return
            page += 1

    return sheets.write(Path(path), list(EXPORT_COLUMNS), records(), fmt)


def _cell(value):
    """A list as 、-separated text (honours as ``kind:year``); employment difficulty as
    ``recognised`` / ``not recognised`` (its lists are on the card)."""
    if isinstance(value, list):
        return "、".join(
            f"{item['kind']}:{item['year']}" if isinstance(item, dict) else str(item)
            for item in value
        )
    if isinstance(value, dict) and "recognised" in value:
        return "recognised" if value["recognised"] else "not recognised"
    return value


def find_card(client, key):
    """A card by veteran id or by ID number."""
    if ID_NUMBER.match(key):
        key = client.call("registry", "find_veteran_by_id_number", key)["id"]
    return client.call("registry", "get_card", key)
