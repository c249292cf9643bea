"""One line per event, as registry writes it on the card's and the booklet's timeline and
vetctl prints it for live events and dead letters. Summaries name codes and figures, never
personal identifiers."""

from shared.contracts import followup, jobs, loans, registry, training


def _loan(verb):
    return lambda d: f"{verb}: {d['product_code']} {d['amount']} (loan {d['loan_id'][:8]})"


SUMMARIES = {
    ("registry", registry.VETERAN_REGISTERED): lambda d: (
        f"registered in county {d['county_code']}, status {d['employment_status']}, "
        f"willingness {d['willingness']}"
    ),
    ("registry", registry.VETERAN_UPDATED): lambda d: (
        "card updated: " + ", ".join(sorted(d["changed"]))
    ),
    ("registry", registry.EMPLOYMENT_STATUS_CHANGED): lambda d: (
        f"employment status {d['previous']} → {d['current']} ({d['reason']})"
    ),
    ("registry", registry.ENTERPRISE_REGISTERED): lambda d: (
        f"{d['kind']} registered: {d['industry']}, stage {d['stage']}"
    ),
    ("registry", registry.ENTERPRISE_UPDATED): lambda d: (
        "booklet updated: " + ", ".join(sorted(d["changed"]))
    ),
    ("jobs", jobs.APPLICATION_SUBMITTED): lambda d: (
        f"applied for posting {d['posting_id'][:8]} ({d['channel']})"
    ),
    ("jobs", jobs.VETERAN_HIRED): lambda d: (
        f"hired by employer {d.get('employer_name') or d['employer_id'][:8]} from "
        f"{d['started_on']}, salary {d['salary']}"
    ),
    ("loans", loans.LOAN_ELIGIBILITY_ASSESSED): lambda d: (
        f"{d['product_code']}: "
        + (
            f"eligible up to {d['max_amount']}"
            if d["eligible"]
            else "not eligible (" + ", ".join(d["failed_criteria"]) + ")"
        )
    ),
    ("loans", loans.LOAN_APPLIED): _loan("loan applied"),
    ("loans", loans.LOAN_APPROVED): _loan("loan approved"),
    ("loans", loans.LOAN_REJECTED): _loan("loan rejected"),
    ("loans", loans.LOAN_DISBURSED): _loan("loan disbursed"),
    ("loans", loans.LOAN_CLOSED): _loan("loan closed"),
    ("loans", loans.LOAN_REFERRED): lambda d: (
        f"loan {d['loan_id'][:8]} referred to partner bank {d['bank_code']}"
    ),
    ("loans", loans.LOAN_EXTENDED): lambda d: (
        f"loan {d['loan_id'][:8]} extended by {d['extra_months']} months (no subsidy)"
    ),
    ("loans", loans.LOAN_REVISIT_REPORTED): lambda d: (
        f"bank revisit of loan {d['loan_id'][:8]} on {d['visited_on']}: {d['outcome']}"
    ),
    ("loans", loans.SUBSIDY_GRANTED): lambda d: f"{d['kind']} subsidy granted: {d['amount']}",
    ("training", training.ENROLLED): lambda d: f"enrolled in course {d['course_id'][:8]}",
    ("training", training.TRAINING_COMPLETED): lambda d: (
        f"completed course {d['course_id'][:8]}: {'passed' if d['passed'] else 'not passed'}"
    ),
    ("training", training.CERTIFICATE_ISSUED): lambda d: (
        f"certificate {d['certificate_name']} ({d['cert_no']})"
    ),
    ("followup", followup.REVISIT_SCHEDULED): lambda d: f"{d['kind']} revisit due {d['due_on']}",
    ("followup", followup.REVISIT_COMPLETED): lambda d: (
        f"revisit done: {d['outcome']}"
        + (f", satisfaction {d['satisfaction']}/5" if d.get("satisfaction") else "")
    ),
    ("followup", followup.ISSUE_ESCALATED): lambda d: (
        f"problem escalated: {d['category']} → {d['department']}"
    ),
    ("followup", followup.CONTACT_RECORDED): lambda d: f"contact by {d['channel']}: {d['topic']}",
}


def summary(source, event_type, data):
    """The line for an event of ``(source, event_type)`` with ``data``; KeyError for a
    type without one (``SUMMARIES`` lists those that have)."""
    return SUMMARIES[(source, event_type)](_plain(data))


def _plain(data):
    return {
        k: v.isoformat() if hasattr(v, "isoformat") else str(v) if hasattr(v, "as_tuple") else v
        for k, v in data.items()
    }
