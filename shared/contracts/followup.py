"""Events published by followup (the service comes with its own issue; the contract is fixed)."""

from marshmallow import fields

from shared.contracts.base import EventData

REVISIT_SCHEDULED, REVISIT_DUE = "revisit_scheduled", "revisit_due"
REVISIT_COMPLETED, ISSUE_ESCALATED = "revisit_completed", "issue_escalated"
CONTACT_RECORDED = "contact_recorded"


class RevisitScheduled(EventData):
    revisit_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    kind = fields.String(required=True)
    due_on = fields.Date(required=True)


class RevisitDue(EventData):
    revisit_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    county_code = fields.String(required=True)
    due_on = fields.Date(required=True)


class RevisitCompleted(EventData):
    revisit_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    outcome = fields.String(required=True)
    satisfaction = fields.Integer(allow_none=True, load_default=None)


class IssueEscalated(EventData):
    issue_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    category = fields.String(required=True)
    department = fields.String(required=True)


class ContactRecorded(EventData):
    contact_id = fields.String(required=True)
    veteran_id = fields.String(allow_none=True, load_default=None)
    channel = fields.String(required=True)
    topic = fields.String(required=True)


SCHEMAS = {
    REVISIT_SCHEDULED: RevisitScheduled(),
    REVISIT_DUE: RevisitDue(),
    REVISIT_COMPLETED: RevisitCompleted(),
    ISSUE_ESCALATED: IssueEscalated(),
    CONTACT_RECORDED: ContactRecorded(),
}
