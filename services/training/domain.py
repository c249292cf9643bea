"""training's records and rules, free of I/O: bases, courses and cohorts, enrollment, pass
marks and certificates, mentors and competitions (what other services' events tell
training, recommendations and placement: ``placement_domain.py``). A rule returns the
change and the events it causes, or raises ``InvalidInput``/``Conflict``; ids, times and
certificate numbers come from the caller."""

import datetime as dt
from dataclasses import dataclass, replace

from shared.contracts import Event
from shared.contracts.training import CERTIFICATE_ISSUED, ENROLLED, TRAINING_COMPLETED
from shared.errors import Conflict, invalid


# -- records ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Origin:
    """Who makes a record and when, with the id it gets."""

    id: str
    at: dt.datetime
    by: str


@dataclass(frozen=True)
class Base:
    id: str
    name: str
    kind: str  # training | incubation
    county_code: str
    capacity: int
    operator: str | None
    created_at: dt.datetime
    created_by: str


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    occupation: str
    certificate_name: str
    skills_granted: list[str]
    theory_hours: int
    practical_hours: int
    mode: str
    base_id: str
    county_code: str
    theory_pass: int
    practical_pass: int
    created_at: dt.datetime
    created_by: str
    # 职业技能等级 of the certificate the course leads to (taxonomy skill_level), if any
    skill_level: str | None = None


@dataclass(frozen=True)
class Cohort:
    id: str
    course_id: str
    county_code: str
    starts_on: dt.date
    ends_on: dt.date
    capacity: int
    enrolled: int
    created_at: dt.datetime
    created_by: str


@dataclass(frozen=True)
class Enrollment:
    id: str
    cohort_id: str
    course_id: str
    veteran_id: str
    county_code: str
    status: str  # enrolled | withdrawn | completed
    enrolled_at: dt.datetime
    created_by: str
    withdrawn_at: dt.datetime | None = None
    theory_score: int | None = None
    practical_score: int | None = None
    passed: bool | None = None
    completed_on: dt.date | None = None


@dataclass(frozen=True)
class Certificate:
    id: str
    cert_no: str
    enrollment_id: str
    veteran_id: str
    course_id: str
    certificate_name: str
    skills: list[str]
    issued_on: dt.date
    skill_level: str | None = None


@dataclass(frozen=True)
class Veteran:
    """The facts training keeps of a veteran (no names or ID numbers)."""

    veteran_id: str
    county_code: str
    skills: list[str]
    occupations: list[str]
    service_needs: list[str]
    willingness: str
    employment_status: str


@dataclass(frozen=True)
class Placement:
    """A veteran hired (jobs' ``veteran_hired``) or founding a business."""

    veteran_id: str
    event_id: str
    kind: str  # hired | enterprise
    placed_on: dt.date


@dataclass(frozen=True)
class Mentor:
    id: str
    name: str
    field: str
    county_code: str
    created_at: dt.datetime
    created_by: str


@dataclass(frozen=True)
class Assignment:
    veteran_id: str
    mentor_id: str
    county_code: str
    assigned_at: dt.datetime
    assigned_by: str


@dataclass(frozen=True)
class Competition:
    id: str
    year: int
    title: str
    groups: list[str]
    county_code: str | None  # None: prefecture-wide
    created_at: dt.datetime
    created_by: str


@dataclass(frozen=True)
class Entry:
    id: str
    competition_id: str
    veteran_id: str
    county_code: str
    project: str
    group: str
    submitted_at: dt.datetime
    prize: str | None = None
    rank: int | None = None
    awarded_at: dt.datetime | None = None


# -- bases, courses, cohorts --------------------------------------------------------------
def new_base(command, origin: Origin) -> Base:
    return Base(id=origin.id, created_at=origin.at, created_by=origin.by, **command)


def open_course(base: Base, command, origin: Origin) -> Course:
    """A course is taught at a training base, and belongs to the base's county."""
    if base.kind != "training":
        raise invalid({"base_id": ["is an incubation base, not a training base"]})
    return Course(
        **{**command, "base_id": str(command["base_id"])},
        id=origin.id,
        county_code=base.county_code,
        created_at=origin.at,
        created_by=origin.by,
    )


def open_cohort(course: Course, command, today: dt.date, origin: Origin) -> Cohort:
    if command["starts_on"] < today:
        raise invalid({"starts_on": ["is in the past"]})
    return Cohort(
        **command,
        id=origin.id,
        course_id=course.id,
        county_code=course.county_code,
        enrolled=0,
        created_at=origin.at,
        created_by=origin.by,
    )


# -- enrollment and results ---------------------------------------------------------------
def enroll(
    cohort: Cohort, veteran: Veteran, today: dt.date, origin: Origin
) -> tuple[Enrollment, list[Event]]:
    """A seat asked for before the cohort starts, in the veteran's county. Whether one is
    left, and whether the veteran holds one already, the store decides."""
    if cohort.starts_on < today:
        raise Conflict("the cohort has started", {"cohort_id": cohort.id})
    enrollment = Enrollment(
        id=origin.id,
        cohort_id=cohort.id,
        course_id=cohort.course_id,
        veteran_id=veteran.veteran_id,
        county_code=veteran.county_code,
        status="enrolled",
        enrolled_at=origin.at,
        created_by=origin.by,
    )
    return enrollment, [enrolled_event(enrollment)]


def withdraw(enrollment: Enrollment, now: dt.datetime) -> Enrollment:
    if enrollment.status != "enrolled":
        raise Conflict(f"the enrollment is {enrollment.status}", {"enrollment_id": enrollment.id})
    return replace(enrollment, status="withdrawn", withdrawn_at=now)


def passed(course: Course, theory_score: int, practical_score: int) -> bool:
    return theory_score >= course.theory_pass and practical_score >= course.practical_pass


def record_result(
    enrollment: Enrollment, course: Course, theory_score: int, practical_score: int, today: dt.date
) -> tuple[Enrollment, list[Event]]:
    """Scores against the course's pass marks, once, for an enrolled veteran: the
    enrollment completed (passed or not) and ``training_completed``. A pass then earns a
    certificate (``certify``)."""
    if enrollment.status != "enrolled":
        raise Conflict(
            f"the enrollment is {enrollment.status}: a result is recorded once, "
            "for an enrolled veteran",
            {"enrollment_id": enrollment.id},
        )
    completed = replace(
        enrollment,
        status="completed",
        completed_on=today,
        theory_score=theory_score,
        practical_score=practical_score,
        passed=passed(course, theory_score, practical_score),
    )
    return completed, [completed_event(completed)]


def certify(
    enrollment: Enrollment, course: Course, number: int, certificate_id: str
) -> tuple[Certificate, list[Event]]:
    """The certificate of a passed enrollment, numbered ``number`` (from a sequence)."""
    assert enrollment.passed and enrollment.completed_on is not None
    certificate = Certificate(
        id=certificate_id,
        cert_no=cert_no(enrollment.completed_on, enrollment.county_code, number),
        enrollment_id=enrollment.id,
        veteran_id=enrollment.veteran_id,
        course_id=enrollment.course_id,
        certificate_name=course.certificate_name,
        skills=list(course.skills_granted),
        issued_on=enrollment.completed_on,
        skill_level=course.skill_level,
    )
    return certificate, [certificate_event(certificate)]


def cert_no(issued_on, county_code, number):
    """退役军人培训证书 number: year, county, a running number (unique by the sequence)."""
    return f"TR{issued_on.year}{county_code}{number:07d}"


# -- mentors and competitions -------------------------------------------------------------
def new_mentor(command, origin: Origin) -> Mentor:
    return Mentor(id=origin.id, created_at=origin.at, created_by=origin.by, **command)


def assign(veteran: Veteran, mentor: Mentor, now: dt.datetime, by: str) -> Assignment:
    """A mentor of any county for a veteran; the assignment is the veteran's county's."""
    return Assignment(
        veteran_id=veteran.veteran_id,
        mentor_id=mentor.id,
        county_code=veteran.county_code,
        assigned_at=now,
        assigned_by=by,
    )


def new_competition(command, prefecture_operator: bool, origin: Origin) -> Competition:
    """A competition of one county, or prefecture-wide (no county) when a prefecture
    operator creates it."""
    if command["county_code"] is None and not prefecture_operator:
        raise invalid(
            {
                "county_code": [
                    "a prefecture-wide competition needs a prefecture operator; name your county"
                ]
            }
        )
    return Competition(id=origin.id, created_at=origin.at, created_by=origin.by, **command)


def require_group(competition: Competition, group: str) -> None:
    if group not in competition.groups:
        raise invalid({"group": [f"must be one of {', '.join(competition.groups)}"]})


def enter(
    competition: Competition,
    veteran: Veteran,
    project: str,
    group: str,
    entry_id: str,
    now: dt.datetime,
) -> Entry:
    """A veteran's entry in one of the competition's groups (once per competition: the
    store sees to that)."""
    require_group(competition, group)
    return Entry(
        id=entry_id,
        competition_id=competition.id,
        veteran_id=veteran.veteran_id,
        county_code=veteran.county_code,
        project=project,
        group=group,
        submitted_at=now,
    )


def award(entry: Entry, prize: str, rank: int, now: dt.datetime) -> Entry:
    if entry.awarded_at is not None:
        raise Conflict("the entry has been awarded already", {"entry_id": entry.id})
    return replace(entry, prize=prize, rank=rank, awarded_at=now)


# -- events -------------------------------------------------------------------------------
def enrolled_event(enrollment: Enrollment) -> Event:
    return Event(
        ENROLLED,
        {
            "enrollment_id": enrollment.id,
            "veteran_id": enrollment.veteran_id,
            "cohort_id": enrollment.cohort_id,
            "course_id": enrollment.course_id,
        },
    )


def completed_event(enrollment: Enrollment) -> Event:
    return Event(
        TRAINING_COMPLETED,
        {
            "enrollment_id": enrollment.id,
            "veteran_id": enrollment.veteran_id,
            "course_id": enrollment.course_id,
            "passed": enrollment.passed,
        },
    )


def certificate_event(certificate: Certificate) -> Event:
    return Event(
        CERTIFICATE_ISSUED,
        {
            "veteran_id": certificate.veteran_id,
            "certificate_name": certificate.certificate_name,
            "cert_no": certificate.cert_no,
            "skills_granted": list(certificate.skills),
            "issued_on": certificate.issued_on,
            "skill_level": certificate.skill_level,
        },
    )
