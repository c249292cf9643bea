"""training: bases, courses and cohorts, enrollment, results and certificates, course
recommendations, placement of graduates, mentors and the startup competition. Each
entrypoint loads, asks ``domain`` for the change and its events, and hands them to the
store."""

import uuid

import structlog

from services.training import domain, placement_domain, schemas
from services.training.store import TrainingStore
from shared.auth import READ, STATS, WRITE
from shared.contracts.jobs import VETERAN_HIRED
from shared.contracts.registry import ENTERPRISE_REGISTERED, VETERAN_REGISTERED, VETERAN_UPDATED
from shared.db import Database
from shared.errors import NotFound
from shared.messaging import batch_event_handler, rpc
from shared.months import last_months
from shared.records import as_dict
from shared.replies import plain
from shared.service import ServiceBase
from shared.validation import invalid, load, parse_uuid

log = structlog.get_logger(__name__)
RECOMMENDATIONS = 10
# What enroll and submit_entry reply: the record as it starts, without the fields a later
# step fills (a result, a withdrawal, an award).
LATER = (
    "withdrawn_at",
    "theory_score",
    "practical_score",
    "passed",
    "completed_on",
    "prize",
    "rank",
    "awarded_at",
)


class TrainingService(ServiceBase):
    name = "training"
    store = Database(TrainingStore)

    # -- bases, courses, cohorts ----------------------------------------------------------
    @rpc(roles=WRITE)
    def register_base(self, data):
        command = load(schemas.BASE_INPUT, data)
        self.auth.require_county(command["county_code"])
        base = domain.new_base(command, self._origin())
        self.store.add_base(base)
        self._log_created(base)
        return reply(base)

    @rpc(roles=WRITE)
    def open_course(self, data):
        command = load(schemas.COURSE_INPUT, data)
        base = self.store.base(command["base_id"])
        if base is None or not self.auth.may_see(base.county_code):
            raise invalid({"base_id": ["no base with this id"]})
        course = domain.open_course(base, command, self._origin())
        self.store.add_course(course)
        self._log_created(course)
        return reply(course)

    @rpc(roles=WRITE)
    def open_cohort(self, course_id, data):
        command = load(schemas.COHORT_INPUT, data)
        course = self._course(course_id)
        cohort = domain.open_cohort(course, command, self.clock.today(), self._origin())
        self.store.add_cohort(cohort)
        self._log_created(cohort)
        return reply(self.store.cohort(cohort.id))  # as stored, with its seats taken

    # -- enrollment -----------------------------------------------------------------------
    @rpc(roles=WRITE)
    def enroll(self, cohort_id, veteran_id):
        """A seat for a registered veteran (known from registry's events); a cohort never
        takes more than its capacity, also under concurrent enrollments. Emits
        ``enrolled``."""
        cohort = self._found(
            self.store.cohort(parse_uuid(cohort_id, "cohort_id")), "cohort", cohort_id
        )  # any county's: a public offer
        veteran = self._veteran(veteran_id)
        enrollment, events = domain.enroll(cohort, veteran, self.clock.today(), self._origin())
        self.store.add_enrollment(enrollment)
        self.store.take_seat(cohort.id)  # a full cohort rolls the enrollment back with it
        self.store.emit(*events)
        log.info(
            "training.enrolled",
            enrollment_id=enrollment.id,
            cohort_id=enrollment.cohort_id,
            operator_id=self.auth.operator.id,
        )
        return reply(enrollment, drop=LATER)

    @rpc(roles=WRITE)
    def withdraw_enrollment(self, enrollment_id):
        enrollment = self._enrollment(enrollment_id, lock=True)
        self.store.withdraw(domain.withdraw(enrollment, self.clock.now()))
        return reply(self.store.enrollment(enrollment.id))

    @rpc(roles=WRITE)
    def record_result(self, enrollment_id, data):
        """Theory and practical scores against the course's pass marks. A pass issues a
        numbered certificate: ``training_completed`` and ``certificate_issued`` (with the
        skills granted); a fail ``training_completed`` with passed false. Twice is
        ``Conflict``."""
        command = load(schemas.RESULT_INPUT, data)
        enrollment = self._enrollment(enrollment_id, lock=True)
        course = self.store.course(enrollment.course_id)
        assert course is not None  # an enrollment's course is never deleted
        completed, events = domain.record_result(
            enrollment,
            course,
            command["theory_score"],
            command["practical_score"],
            self.clock.today(),
        )
        self.store.save_result(completed)
        certificate = None
        if completed.passed:
            certificate, issued = domain.certify(
                completed, course, self.store.next_certificate_number(), new_id()
            )
            self.store.add_certificate(certificate)
            events += issued
        self.store.emit(*events)
        log.info(
            "training.result",
            enrollment_id=completed.id,
            passed=completed.passed,
            operator_id=self.auth.operator.id,
        )
        return {
            **reply(self.store.enrollment(completed.id)),
            "certificate": reply(certificate) if certificate else None,
        }

    @rpc(roles=READ)
    def trainings_for(self, veteran_id):
        veteran = self._veteran(veteran_id)
        return [plain(row) for row in self.store.trainings_of(veteran.veteran_id)]

    # -- recommendations ------------------------------------------------------------------
    @rpc(roles=READ)
    def recommend_courses(self, veteran_id):
        """Open cohorts ranked by the veteran's wanted occupations, the skills they lack,
        a stated need for training and their county: ``[{cohort, score, reasons}]``."""
        veteran = self._veteran(veteran_id)
        cohorts = self.store.open_cohorts(self.clock.today())
        ranked = placement_domain.recommend(veteran, cohorts, RECOMMENDATIONS)
        return [
            {"cohort": reply(cohort), "score": score, "reasons": reasons}
            for cohort, score, reasons in ranked
        ]

    # Facts from registry refresh the projection and the stored recommendations; hires
    # and founded businesses are placements of graduates.
    @batch_event_handler(
        "registry",
        VETERAN_REGISTERED,
        also=[
            ("registry", VETERAN_UPDATED),
            ("registry", ENTERPRISE_REGISTERED),
            ("jobs", VETERAN_HIRED),
        ],
    )
    def on_events(self, events):
        veterans, placements = placement_domain.read_events(events)
        now = self.clock.now()
        self.store.save_veterans(veterans.values(), now)
        self.store.add_placements(placements)
        if veterans:  # no veteran's facts changed, no recommendation to refresh
            cohorts = self.store.open_cohorts(self.clock.today())
            refreshed = placement_domain.recommendations(
                veterans.values(), cohorts, RECOMMENDATIONS
            )
            for veteran_id, scored in refreshed:
                self.store.save_recommendations(veteran_id, scored, now)

    @rpc(roles=READ)
    def placement_rate(self, course_id):
        """Graduates of a course and those placed (hired, or founding a business) within
        90 days of finishing, per cohort and overall; for the course's own counties only
        (another county's course is answered as a missing one)."""
        course = self._course(course_id)
        graduates = self.store.graduates(course.id)
        placements = self.store.placements_of({veteran_id for _, veteran_id, _ in graduates})
        report = placement_domain.placement_report(graduates, placements)
        return {"course_id": course.id, **report}

    # -- mentors and competitions ---------------------------------------------------------
    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def register_mentor(self, data):
        command = load(schemas.MENTOR_INPUT, data)
        self.auth.require_county(command["county_code"])
        mentor = domain.new_mentor(command, self._origin())
        self.store.add_mentor(mentor)
        self._log_created(mentor)
        return reply(mentor)

    @rpc(roles=WRITE)
    def assign_mentor(self, veteran_id, mentor_id):
        veteran = self._veteran(veteran_id)
        mentor = self._found(
            self.store.mentor(parse_uuid(mentor_id, "mentor_id")), "mentor", mentor_id
        )  # any county's: mentors serve all
        assignment = domain.assign(veteran, mentor, self.clock.now(), self.auth.operator.id)
        added = self.store.add_assignment(assignment)
        return {
            "veteran_id": assignment.veteran_id,
            "mentor_id": assignment.mentor_id,
            "assigned": True,
            "already": not added,
        }

    @rpc(roles=WRITE)
    def create_competition(self, data):
        command = load(schemas.COMPETITION_INPUT, data)
        competition = domain.new_competition(
            command, self.auth.operator.all_counties, self._origin()
        )
        # A county named must be the caller's; no county (prefecture-wide) passed the
        # domain only for a prefecture operator, who sees every county.
        self.auth.require_county(competition.county_code)
        self.store.add_competition(competition)
        self._log_created(competition)
        return reply(competition)

    @rpc(roles=WRITE)
    def submit_entry(self, competition_id, data):
        command = load(schemas.ENTRY_INPUT, data)
        # Any county's competition (a public offer), for a veteran of the caller's counties.
        competition = self._found(
            self.store.competition(parse_uuid(competition_id, "competition_id")),
            "competition",
            competition_id,
        )
        domain.require_group(competition, command["group"])  # before the veteran is looked up
        veteran = self._veteran(command["veteran_id"])
        entry = domain.enter(
            competition, veteran, command["project"], command["group"], new_id(), self.clock.now()
        )
        self.store.add_entry(entry)
        return reply(entry, drop=LATER)

    @rpc(roles=WRITE)
    def award(self, entry_id, data):
        command = load(schemas.AWARD_INPUT, data)
        entry = self._found(
            self.store.entry(parse_uuid(entry_id, "entry_id"), lock=True),
            "entry",
            entry_id,
            own=True,
        )
        awarded = domain.award(entry, command["prize"], command["rank"], self.clock.now())
        self.store.save_award(awarded)
        return reply(self.store.entry(awarded.id))

    # -- statistics -----------------------------------------------------------------------
    @rpc(roles=STATS)
    def stats(self, county_code=None):
        county_code, counties, listed = self.stats_scope(county_code)
        figures, graduates = self.store.stats(counties)
        placements = self.store.placements_of({veteran_id for veteran_id, _ in graduates})
        placed = placement_domain.placement_figures(graduates, placements)
        return {
            "county_code": county_code,
            "counties": listed,
            **figures,
            "placed_within_90_days": placed["placed_within_90_days"],
            "placement_rate": placed["rate"],
            "by_month": placement_domain.placed_by_month(
                graduates, placements, last_months(self.clock.today())
            ),
        }

    # -- helpers --------------------------------------------------------------------------
    def _origin(self):
        return domain.Origin(new_id(), self.clock.now(), self.auth.operator.id)

    def _log_created(self, record):
        log.info(
            "training.created",
            record=type(record).__name__.lower(),
            id=record.id,
            operator_id=self.auth.operator.id,
        )

    def _found(self, record, what, row_id, own=False):
        """``record`` or ``NotFound``. ``own``: one of the caller's counties' records (to
        change it or read its figures); another county's is answered as a missing one.
        Without it, any county's: a public offer (a cohort, a competition, a mentor) to
        take up."""
        if record is None or (own and not self.auth.may_see(record.county_code)):
            raise NotFound(f"no {what} {row_id}")
        return record

    def _course(self, course_id) -> domain.Course:
        return self._found(
            self.store.course(parse_uuid(course_id, "course_id")), "course", course_id, own=True
        )

    def _enrollment(self, enrollment_id, lock=False) -> domain.Enrollment:
        return self._found(
            self.store.enrollment(parse_uuid(enrollment_id, "enrollment_id"), lock=lock),
            "enrollment",
            enrollment_id,
            own=True,
        )

    def _veteran(self, veteran_id) -> domain.Veteran:
        veteran = self.store.veteran(parse_uuid(veteran_id, "veteran_id"))
        if veteran is None or not self.auth.may_see(veteran.county_code):
            raise NotFound(
                f"training has no veteran {veteran_id} (registered veterans reach "
                "training through registry's events)"
            )
        return veteran


def reply(record, drop=()):
    """A record as a reply: every field but who made it (and ``drop``)."""
    return plain(as_dict(record), drop=("created_by", *drop))


def new_id():
    return str(uuid.uuid4())
