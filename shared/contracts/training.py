"""Events published by training (the service comes with its own issue; the contract is fixed)."""

from marshmallow import fields

from shared.contracts.base import EventData, codes

ENROLLED, TRAINING_COMPLETED = "enrolled", "training_completed"
CERTIFICATE_ISSUED = "certificate_issued"


class Enrolled(EventData):
    enrollment_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    cohort_id = fields.String(required=True)
    course_id = fields.String(required=True)


class TrainingCompleted(EventData):
    enrollment_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    course_id = fields.String(required=True)
    passed = fields.Boolean(required=True)


class CertificateIssued(EventData):
    veteran_id = fields.String(required=True)
    certificate_name = fields.String(required=True)
    cert_no = fields.String(required=True)
    skills_granted = codes(required=True)
    issued_on = fields.Date(required=True)
    # taxonomy skill_level (level_5 五级/初级工 … level_1 一级/高级技师); null: none stated
    skill_level = fields.String(allow_none=True, load_default=None)


SCHEMAS = {
    ENROLLED: Enrolled(),
    TRAINING_COMPLETED: TrainingCompleted(),
    CERTIFICATE_ISSUED: CertificateIssued(),
}
