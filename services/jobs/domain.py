"""jobs' rules, free of I/O: codes, the application pipeline, closing, the events and
what replies look like."""
from shared.contracts import Event
from shared.contracts.jobs import APPLICATION_SUBMITTED, JOB_CLOSED, JOB_POSTED, VETERAN_HIRED
from shared.masks import mask_phone
from shared.replies import plain

SOURCES = ("local", "fair", "bureau")
FAIR_MODES = ("online_live", "offline", "hybrid")
CHANNELS = ("self", "referral", "fair")
# Why a posting closes: a clerk's reasons, and the two it closes itself for.
CLOSE_REASONS_BY_CLERK = ("withdrawn", "filled_elsewhere", "cancelled")
FILLED, EXPIRED = "filled", "expired"

# The hiring pipeline: submitted → interviewing → offered → hired | rejected | withdrawn.
MOVES = {
    "submitted": {"interviewing", "offered", "rejected", "withdrawn"},
    "interviewing": {"offered", "rejected", "withdrawn"},
    "offered": {"hired", "rejected", "withdrawn"},
    "hired": set(),
    "rejected": set(),
    "withdrawn": set(),
}
ADVANCE_TO = ("interviewing", "offered", "rejected", "withdrawn")  # hired: through hire()
FINAL = {"hired", "rejected", "withdrawn"}
# Employment intentions reached (达成就业意向): an offer made, or a hire.
INTENTION_REACHED = ("offered", "hired")


def may_move(current, target):
    return target in MOVES.get(current, set())


def illegal_move(current, target):
    allowed = sorted(MOVES.get(current, set()))
    return (f"an application that is {current} cannot become {target}"
            + (f"; it can become {', '.join(allowed)}" if allowed else "; it is final"))


def posted_event(posting):
    return Event(JOB_POSTED, {
        "posting_id": posting["id"], "employer_id": posting["employer_id"],
        "county_code": posting["county_code"], "occupation": posting["occupation"],
        "skills_required": list(posting["skills_required"]), "openings": posting["openings"],
        "dedicated": posting["dedicated"], "source": posting["source"]})


def closed_event(posting_id, reason):
    return Event(JOB_CLOSED, {"posting_id": posting_id, "reason": reason})


def submitted_event(application):
    return Event(APPLICATION_SUBMITTED, {
        "application_id": application["id"], "veteran_id": application["veteran_id"],
        "posting_id": application["posting_id"], "channel": application["channel"]})


def hired_event(hire, employer_name):
    return Event(VETERAN_HIRED, {
        "application_id": hire["application_id"], "veteran_id": hire["veteran_id"],
        "posting_id": hire["posting_id"], "employer_id": hire["employer_id"],
        "employer_name": employer_name, "county_code": hire["county_code"],
        "started_on": hire["started_on"], "salary": hire["salary"], "channel": hire["channel"]})


def present_posting(row, today):
    posting = plain(row)
    posting["remaining"] = row["openings"] - row["hired"]
    # A posting whose date has passed is closed even before the sweep marks it.
    if posting["status"] == "open" and row["closes_on"] < today:
        posting["status"], posting["closed_reason"] = "closed", EXPIRED
    return posting


def present_employer(row):
    """The employer; its contact's phone masked like a veteran's in a list (no employer
    read is audited, so none shows it in full)."""
    employer = plain(row)
    employer["contact_phone"] = mask_phone(employer.get("contact_phone"))
    return employer
