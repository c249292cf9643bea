"""training: bases, courses and cohorts, enrollment, results and certificates, course
recommendations, placement of graduates, mentors and the startup competition."""
import uuid

import structlog

from services.training import domain, schemas
from services.training.store import TrainingStore
from shared.auth import READ, STATS, WRITE
from shared.contracts.jobs import VETERAN_HIRED
from shared.contracts.registry import ENTERPRISE_REGISTERED, VETERAN_REGISTERED, VETERAN_UPDATED
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.messaging import batch_event_handler, rpc
from shared.replies import plain
from shared.service import ServiceBase
from shared.validation import invalid, load, parse_uuid

log = structlog.get_logger(__name__)
RECOMMENDATIONS = 10


class TrainingService(ServiceBase):
    name = "training"
    store = Database(TrainingStore)

    # -- bases, courses, cohorts ----------------------------------------------------------
    @rpc(roles=WRITE)
    def register_base(self, data):
        command = load(schemas.BASE_INPUT, data)
        self.auth.require_county(command["county_code"])
        base = self._new("bases", command)
        return plain(base)

    @rpc(roles=WRITE)
    def open_course(self, data):
        command = load(schemas.COURSE_INPUT, data)
        base = self.store.get("bases", command["base_id"])
        if base is None or not self.auth.may_see(base["county_code"]):
            raise invalid({"base_id": ["no base with this id"]})
        if base["kind"] != "training":
            raise invalid({"base_id": ["is an incubation base, not a training base"]})
        course = self._new("courses", {**command, "county_code": base["county_code"]})
        return plain(course)

    @rpc(roles=WRITE)
    def open_cohort(self, course_id, data):
        command = load(schemas.COHORT_INPUT, data)
        course = self._get("courses", course_id, "course_id", own=True)
        if command["starts_on"] < self.clock.today():
            raise invalid({"starts_on": ["is in the past"]})
        cohort = self._new("cohorts", {**command, "course_id": course["id"],
                                       "county_code": course["county_code"]})
        return plain(self.store.get("cohorts", cohort["id"]))

    # -- enrollment -----------------------------------------------------------------------
    @rpc(roles=WRITE)
    def enroll(self, cohort_id, veteran_id):
        """A seat for a registered veteran (known from registry's events); a cohort never
        takes more than its capacity, also under concurrent enrollments. Emits
        ``enrolled``."""
        cohort = self._get("cohorts", cohort_id, "cohort_id")  # any county's: a public offer
        veteran = self._veteran(veteran_id)
        if cohort["starts_on"] < self.clock.today():
            raise Conflict("the cohort has started", {"cohort_id": str(cohort["id"])})
        enrollment = {"id": str(uuid.uuid4()), "cohort_id": str(cohort["id"]),
                      "course_id": str(cohort["course_id"]),
                      "veteran_id": str(veteran["veteran_id"]),
                      "county_code": veteran["county_code"], "status": "enrolled",
                      "enrolled_at": self.clock.now(), "created_by": self.auth.operator.id}
        clash = self.store.add_enrollment(enrollment)
        if clash == "cohort":
            raise Conflict("the veteran is enrolled in this cohort already",
                           {"cohort_id": enrollment["cohort_id"]})
        if clash == "course":
            raise Conflict("the veteran is enrolled in another cohort of this course",
                           {"course_id": enrollment["course_id"]})
        if not self.store.take_seat(cohort["id"]):  # rolls the enrollment back with it
            raise Conflict("the cohort is full", {"cohort_id": enrollment["cohort_id"]})
        self.store.emit(domain.enrolled_event(enrollment))
        log.info("training.enrolled", enrollment_id=enrollment["id"],
                 cohort_id=enrollment["cohort_id"], operator_id=self.auth.operator.id)
        return plain(enrollment)

    @rpc(roles=WRITE)
    def withdraw_enrollment(self, enrollment_id):
        enrollment = self._enrollment(enrollment_id, lock=True)
        if enrollment["status"] != "enrolled":
            raise Conflict(f"the enrollment is {enrollment['status']}",
                           {"enrollment_id": str(enrollment["id"])})
        self.store.update_enrollment(enrollment["id"], status="withdrawn",
                                     withdrawn_at=self.clock.now())
        self.store.free_seat(enrollment["cohort_id"])
        return plain(self.store.get("enrollments", enrollment["id"]))

    @rpc(roles=WRITE)
    def record_result(self, enrollment_id, data):
        """Theory and practical scores against the course's pass marks. A pass issues a
        numbered certificate: ``training_completed`` and ``certificate_issued`` (with the
        skills granted); a fail ``training_completed`` with passed false. Twice is
        ``Conflict``."""
        command = load(schemas.RESULT_INPUT, data)
        enrollment = self._enrollment(enrollment_id, lock=True)
        if enrollment["status"] != "enrolled":
            raise Conflict(f"the enrollment is {enrollment['status']}: a result is recorded "
                           "once, for an enrolled veteran",
                           {"enrollment_id": str(enrollment["id"])})
        course = self.store.get("courses", enrollment["course_id"])
        passed = domain.passed(course, command["theory_score"], command["practical_score"])
        today = self.clock.today()
        self.store.update_enrollment(enrollment["id"], status="completed", passed=passed,
                                     completed_on=today, **command)
        enrollment = {**enrollment, "id": str(enrollment["id"]),
                      "veteran_id": str(enrollment["veteran_id"]),
                      "course_id": str(enrollment["course_id"])}
        self.store.emit(domain.completed_event(enrollment, passed))
        certificate = None
        if passed:
            number = self.store.next_certificate_number()
            certificate = {
                "id": str(uuid.uuid4()),
                "cert_no": domain.cert_no(today, enrollment["county_code"], number),
                "enrollment_id": enrollment["id"], "veteran_id": enrollment["veteran_id"],
                "course_id": enrollment["course_id"],
                "certificate_name": course["certificate_name"],
                "skills": list(course["skills_granted"]), "issued_on": today}
            self.store.add_certificate(certificate)
            self.store.emit(domain.certificate_event(certificate))
        log.info("training.result", enrollment_id=enrollment["id"], passed=passed,
                 operator_id=self.auth.operator.id)
        return {**plain(self.store.get("enrollments", enrollment["id"])),
                "certificate": plain(certificate) if certificate else None}

    @rpc(roles=READ)
    def trainings_for(self, veteran_id):
        veteran = self._veteran(veteran_id)
        return [plain(row) for row in self.store.trainings_of(veteran["veteran_id"])]

    # -- recommendations ------------------------------------------------------------------
    @rpc(roles=READ)
    def recommend_courses(self, veteran_id):
        """Open cohorts ranked by the veteran's wanted occupations, the skills they lack,
        a stated need for training and their county: ``[{cohort, score, reasons}]``."""
        veteran = self._veteran(veteran_id)
        ranked = domain.recommend(veteran, self.store.open_cohorts(self.clock.today()),
                                  RECOMMENDATIONS)
        return [{"cohort": plain(cohort), "score": score, "reasons": reasons}
                for cohort, score, reasons in ranked]

    # Facts from registry refresh the projection and the stored recommendations; hires
    # and founded businesses are placements of graduates.
    @batch_event_handler("registry", VETERAN_REGISTERED, also=[
        ("registry", VETERAN_UPDATED), ("registry", ENTERPRISE_REGISTERED),
        ("jobs", VETERAN_HIRED)])
    def on_events(self, events):
        veterans, placements = {}, []
        for event in events:
            data = event.data
            if event.type in (VETERAN_REGISTERED, VETERAN_UPDATED):
                facts = data if event.type == VETERAN_REGISTERED else data["snapshot"]
                veterans[facts["veteran_id"]] = projection(facts)
            elif event.type == VETERAN_HIRED:
                placements.append((data["veteran_id"], event.event_id, "hired",
                                   data["started_on"]))
            else:
                placements += [(founder, event.event_id, "enterprise", data["founded_on"])
                               for founder in data["founder_ids"]]
        now = self.clock.now()
        self.store.save_veterans(veterans.values(), now)
        self.store.add_placements(placements)
        if veterans:
            cohorts = self.store.open_cohorts(self.clock.today())
            for veteran_id, veteran in sorted(veterans.items()):
                ranked = domain.recommend(veteran, cohorts, RECOMMENDATIONS)
                self.store.save_recommendations(
                    veteran_id, [(str(c["id"]), score) for c, score, _ in ranked], now)

    @rpc(roles=READ)
    def placement_rate(self, course_id):
        """Graduates of a course and those placed (hired, or founding a business) within
        90 days of finishing, per cohort and overall; for the course's own counties only
        (another county's course is answered as a missing one)."""
        course = self._get("courses", course_id, "course_id", own=True)
        graduates = self.store.graduates(course["id"])
        placements = self.store.placements_of({veteran_id for _, veteran_id, _ in graduates})
        cohorts = {}
        for cohort_id, veteran_id, completed_on in graduates:
            cohorts.setdefault(cohort_id, []).append((veteran_id, completed_on))
        return {"course_id": str(course["id"]),
                **domain.placement_figures([(v, d) for _, v, d in graduates], placements),
                "cohorts": [{"cohort_id": cohort_id,
                             **domain.placement_figures(members, placements)}
                            for cohort_id, members in sorted(cohorts.items())]}

    # -- mentors and competitions ---------------------------------------------------------
    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def register_mentor(self, data):
        command = load(schemas.MENTOR_INPUT, data)
        self.auth.require_county(command["county_code"])
        return plain(self._new("mentors", command))

    @rpc(roles=WRITE)
    def assign_mentor(self, veteran_id, mentor_id):
        veteran = self._veteran(veteran_id)
        mentor = self._get("mentors", mentor_id, "mentor_id")  # any county's: mentors serve all
        added = self.store.assign_mentor(veteran["veteran_id"], mentor["id"],
                                         veteran["county_code"], self.clock.now(),
                                         self.auth.operator.id)
        return {"veteran_id": str(veteran["veteran_id"]), "mentor_id": str(mentor["id"]),
                "assigned": True, "already": not added}

    @rpc(roles=WRITE)
    def create_competition(self, data):
        command = load(schemas.COMPETITION_INPUT, data)
        if command["county_code"] is not None:
            self.auth.require_county(command["county_code"])
        elif not self.auth.operator.all_counties:
            raise invalid({"county_code": ["a prefecture-wide competition needs a "
                                           "prefecture operator; name your county"]})
        return plain(self._new("competitions", command))

    @rpc(roles=WRITE)
    def submit_entry(self, competition_id, data):
        command = load(schemas.ENTRY_INPUT, data)
        # Any county's competition (a public offer), for a veteran of the caller's counties.
        competition = self._get("competitions", competition_id, "competition_id")
        if command["group"] not in competition["groups"]:
            raise invalid({"group": [f"must be one of {', '.join(competition['groups'])}"]})
        veteran = self._veteran(command["veteran_id"])
        entry = {"id": str(uuid.uuid4()), "competition_id": str(competition["id"]),
                 "veteran_id": str(veteran["veteran_id"]), "county_code": veteran["county_code"],
                 "project": command["project"], "group": command["group"],
                 "submitted_at": self.clock.now()}
        if not self.store.add_entry(entry):
            raise Conflict("the veteran has an entry in this competition already",
                           {"competition_id": entry["competition_id"]})
        return present_entry(entry)

    @rpc(roles=WRITE)
    def award(self, entry_id, data):
        command = load(schemas.AWARD_INPUT, data)
        entry = self._get("entries", entry_id, "entry_id", own=True)
        if not self.store.award(entry["id"], command["prize"], command["rank"], self.clock.now()):
            raise Conflict("the entry has been awarded already", {"entry_id": str(entry["id"])})
        return present_entry(self.store.get("entries", entry["id"]))

    # -- statistics -----------------------------------------------------------------------
    @rpc(roles=STATS)
    def stats(self, county_code=None):
        county_code, counties, listed = self.stats_scope(county_code)
        figures, graduates = self.store.stats(counties)
        placements = self.store.placements_of({veteran_id for veteran_id, _ in graduates})
        placed = domain.placement_figures(graduates, placements)
        return {"county_code": county_code, "counties": listed, **figures,
                "placed_within_90_days": placed["placed_within_90_days"],
                "placement_rate": placed["rate"]}

    # -- helpers --------------------------------------------------------------------------
    def _new(self, table, command):
        row = {**command, "id": str(uuid.uuid4()), "created_at": self.clock.now(),
               "created_by": self.auth.operator.id}
        self.store.add(table, row)
        log.info("training.created", table=table, id=row["id"],
                 operator_id=self.auth.operator.id)
        return row

    def _get(self, table, row_id, field, lock=False, own=False):
        """A row by id. ``own``: one of the caller's counties' rows (to change it or read
        its figures); another county's is answered as a missing one. Without it, any
        county's: a public offer (a cohort, a competition, a mentor) to take up."""
        row = self.store.get(table, parse_uuid(row_id, field), lock=lock)
        if row is None or (own and not self.auth.may_see(row["county_code"])):
            raise NotFound(f"no {field[:-3]} {row_id}")
        return row

    def _enrollment(self, enrollment_id, lock=False):
        return self._get("enrollments", enrollment_id, "enrollment_id", lock=lock, own=True)

    def _veteran(self, veteran_id):
        veteran = self.store.get_veteran(parse_uuid(veteran_id, "veteran_id"))
        if veteran is None or not self.auth.may_see(veteran["county_code"]):
            raise NotFound(f"training has no veteran {veteran_id} (registered veterans reach "
                           "training through registry's events)")
        return veteran


def present_entry(row):
    entry = plain(row)
    if "competition_group" in entry:
        entry["group"] = entry.pop("competition_group")
    return entry


def projection(data):
    """The facts training keeps of a veteran (no names or ID numbers)."""
    intentions = data.get("intentions") or {}
    return {"veteran_id": data["veteran_id"], "county_code": data["county_code"],
            "skills": list(data.get("skills") or []),
            "occupations": list(intentions.get("occupations") or []),
            "service_needs": list(data.get("service_needs") or []),
            "willingness": data["willingness"], "employment_status": data["employment_status"]}
