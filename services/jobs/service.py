"""jobs: employers, postings, recruitment fairs, matching, applications and hires (the
employment bureau's HTTP integration is in bureau.py). Each entrypoint loads, asks
domain.py what changes and what it causes, stores that and its events, and replies."""

import uuid

import structlog
from nameko.timer import timer

from services.jobs import domain, fair_domain, projection_domain, schemas
from services.jobs.bureau import BureauHttp
from services.jobs.matching import reasons
from services.jobs.store import JobsStore
from shared.auth import READ, STATS, WRITE
from shared.contracts.registry import EMPLOYMENT_STATUS_CHANGED, VETERAN_REGISTERED, VETERAN_UPDATED
from shared.contracts.training import CERTIFICATE_ISSUED
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.messaging import batch_event_handler, rpc
from shared.service import ServiceBase
from shared.validation import invalid, load, load_page, parse_uuid

log = structlog.get_logger(__name__)
RECOMMENDATIONS = 10


class JobsService(BureauHttp, ServiceBase):
    name = "jobs"
    store = Database(JobsStore)

    # -- employers ------------------------------------------------------------------------
    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def register_employer(self, data):
        command = load(schemas.EMPLOYER_INPUT, data)
        self.auth.require_county(command["county_code"])
        employer = domain.new_employer(
            command, str(uuid.uuid4()), self.clock.now(), self.auth.operator.id
        )
        try:
            self.store.add_employer(employer)
        except Conflict as clash:  # name the holder only to a caller who may see it
            holder = self.store.get_employer(clash.details["employer_id"])
            if holder is not None and self.auth.may_see(holder.county_code):
                raise
            raise Conflict(
                "this unified social credit code is already registered; ask the prefecture office",
                {},
            ) from None
        log.info(
            "employer.registered",
            employer_id=employer.id,
            county_code=employer.county_code,
            operator_id=self.auth.operator.id,
        )
        return domain.present_employer(employer)

    @rpc(roles=READ)
    def get_employer(self, employer_id):
        return domain.present_employer(self._employer(employer_id))

    # -- postings -------------------------------------------------------------------------
    @rpc(roles=WRITE)
    def post_job(self, data):
        command = load(schemas.POST_INPUT, data)
        employer = self.store.get_employer(command.pop("employer_id"))
        if employer is None or not self.auth.may_see(employer.county_code):
            raise invalid({"employer_id": ["no employer with this id"]})
        self.auth.require_county(command["county_code"])
        posting, events = domain.post(
            command,
            employer,
            command.pop("source"),
            str(uuid.uuid4()),
            self.clock.now(),
            self.clock.today(),
            self.auth.operator.id,
        )
        self.store.add_posting(posting)
        self.store.emit(*events)
        log.info(
            "job.posted",
            posting_id=posting.id,
            county_code=posting.county_code,
            operator_id=self.auth.operator.id,
        )
        return self._present(posting)

    @rpc(roles=WRITE)
    def close_job(self, posting_id, reason):
        reason = load(schemas.CLOSE_INPUT, {"reason": reason})["reason"]
        posting = self._own(self._posting(posting_id, lock=True), "posting", posting_id)
        events = domain.close(posting, reason)
        self.store.close_posting(posting.id, reason, self.clock.now())
        self.store.emit(*events)
        log.info(
            "job.closed", posting_id=posting.id, reason=reason, operator_id=self.auth.operator.id
        )
        return self._present(self._posting(posting.id))

    @rpc(roles=READ)
    def get_job(self, posting_id):
        """A posting, whatever its county: postings are public notices."""
        return self._present(self._posting(posting_id))

    @rpc(roles=READ, sensitive_arguments=("filters",))
    def search_jobs(self, filters=None, page=1, page_size=50):
        """Postings matching every filter (default: open ones), newest first:
        ``{items, total, page, page_size}``."""
        query = load(schemas.SEARCH_INPUT, {} if filters is None else filters)
        page, size = load_page(page, page_size)
        total, postings = self.store.search_postings(
            query, self.clock.today(), size, (page - 1) * size
        )
        return {
            "items": [self._present(posting) for posting in postings],
            "total": total,
            "page": page,
            "page_size": size,
        }

    @timer(interval=300)
    def close_expired_postings(self):
        """Closes postings whose date has passed, announcing each (replicas may run this
        at once: the rows are taken with SKIP LOCKED)."""
        ids = self.store.expire_postings(self.clock.today(), self.clock.now())
        self.store.emit(*domain.expired(ids))
        if ids:
            log.info("jobs.expired", count=len(ids))
        return len(ids)

    # -- matching -------------------------------------------------------------------------
    @rpc(roles=READ)
    def match_jobs(self, veteran_id, limit=10):
        """Open postings ranked for a veteran: ``[{posting, score, reasons}]``."""
        limit = load(schemas.LIMIT_INPUT, {"limit": limit})["limit"]
        veteran = self._veteran(veteran_id)
        ranked = self.store.match_postings(veteran, self.clock.today(), limit)
        return [
            {
                "posting": self._present(posting),
                "score": score,
                "reasons": reasons(veteran, posting),
            }
            for posting, score in ranked
        ]

    @rpc(roles=READ)
    def match_candidates(self, posting_id, limit=20):
        """Veterans of the caller's counties who want a job and are not working, ranked for
        a posting: ``[{veteran_id, county_code, employment_status, score, reasons}]``."""
        limit = load(schemas.LIMIT_INPUT, {"limit": limit})["limit"]
        posting = self._posting(posting_id)
        ranked = self.store.match_veterans(posting, limit, self.auth.scope())
        return [
            {
                "veteran_id": v.veteran_id,
                "county_code": v.county_code,
                "employment_status": v.employment_status,
                "score": score,
                "reasons": reasons(v, posting),
            }
            for v, score in ranked
        ]

    @rpc(roles=READ)
    def recommendations_for(self, veteran_id):
        """The postings stored for a veteran when their facts last changed (a clerk's
        worklist), still open ones only: ``[{posting, score}]``."""
        veteran = self._veteran(veteran_id)
        return domain.open_recommendations(
            self.store.recommended(veteran.veteran_id), self.clock.today()
        )

    # The facts matching needs, from registry's and training's events, one batch per
    # transaction; each veteran whose facts changed gets fresh recommendations.
    @batch_event_handler(
        "registry",
        VETERAN_REGISTERED,
        also=[
            ("registry", VETERAN_UPDATED),
            ("registry", EMPLOYMENT_STATUS_CHANGED),
            ("training", CERTIFICATE_ISSUED),
        ],
    )
    def on_veteran_events(self, events):
        known = self.store.get_veterans({event.data["veteran_id"] for event in events}, lock=True)
        projected = projection_domain.project(known, events)
        for veteran_id, event_type in projected.unknown:
            log.warning("jobs.unknown_veteran", veteran_id=veteran_id, type=event_type)
        self.store.save_veterans(list(projected.changed.values()), self.clock.now())
        for veteran_id in sorted(projected.refresh):
            self._refresh_recommendations(projected.changed[veteran_id])

    def _refresh_recommendations(self, veteran):
        """The top postings stored for a veteran who seeks work; none for anyone else."""
        scored = (
            self.store.ranked_posting_ids(veteran, self.clock.today(), RECOMMENDATIONS)
            if projection_domain.seeks_work(veteran)
            else []
        )
        self.store.save_recommendations(veteran.veteran_id, scored, self.clock.now())

    # -- fairs ----------------------------------------------------------------------------
    @rpc(roles=WRITE)
    def schedule_fair(self, data):
        command = load(schemas.FAIR_INPUT, data)
        self.auth.require_county(command["county_code"])
        # Postings are public offers, any county's; employers the caller's counties'.
        employers = self.store.existing_employers(command["employer_ids"], self.auth.scope())
        postings = self.store.existing_postings(command["posting_ids"])
        fair = fair_domain.schedule_fair(
            command, str(uuid.uuid4()), self.clock.now(), self.auth.operator.id, employers, postings
        )
        self.store.add_fair(fair)
        log.info(
            "fair.scheduled",
            fair_id=fair.id,
            county_code=fair.county_code,
            mode=fair.mode,
            operator_id=self.auth.operator.id,
        )
        return self._present_fair(fair)

    @rpc(roles=WRITE)
    def register_for_fair(self, fair_id, veteran_id):
        fair = self._fair(fair_id)  # any county's: a fair is a public offer
        veteran = self._veteran(veteran_id)
        added = self.store.register_for_fair(
            fair.id, veteran.veteran_id, self.clock.now(), self.auth.operator.id
        )
        return {
            "fair_id": fair.id,
            "veteran_id": veteran.veteran_id,
            "registered": True,
            "already": not added,
        }

    @rpc(roles=READ)
    def get_fair(self, fair_id):
        """A fair with its figures: registrations, applications, interviews, intentions
        reached (offers and hires) and hires; for the fair's own counties only (another
        county's fair is answered as a missing one)."""
        return self._present_fair(self._own(self._fair(fair_id), "fair", fair_id))

    def _present_fair(self, fair):
        return fair_domain.present_fair(fair, self.store.fair_figures(fair.id))

    # -- applications and hires -----------------------------------------------------------
    @rpc(roles=WRITE)
    def apply(self, data):
        command = load(schemas.APPLY_INPUT, data)
        veteran = self._veteran(command["veteran_id"])
        posting = self._posting(command["posting_id"])  # any county's: a public offer
        domain.require_open(posting, self.clock.today())
        fair = self._fair(command["fair_id"]) if command["fair_id"] is not None else None
        operator = self.auth.operator
        application, submitted, events = domain.submit(
            veteran,
            posting,
            fair,
            command["channel"],
            str(uuid.uuid4()),
            self.clock.now(),
            operator.id,
        )
        self.store.add_application(application, submitted)
        self.store.emit(*events)
        log.info(
            "application.submitted",
            application_id=application.id,
            posting_id=application.posting_id,
            channel=application.channel,
            operator_id=operator.id,
        )
        return domain.present_application(application)

    @rpc(roles=WRITE, sensitive_arguments=("note",))
    def advance_application(self, application_id, status, note=None):
        command = load(schemas.ADVANCE_INPUT, {"status": status, "note": note})
        application = self._application(application_id, lock=True)
        self._move(application, command["status"], command["note"])
        return domain.present_application(self._application(application.id))

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def hire(self, application_id, data):
        """Hires on an offered application: takes one of the posting's openings (never
        past the last, also under concurrent hires), emits ``veteran_hired``, and closes
        the posting when its last opening is taken."""
        command = load(schemas.HIRE_INPUT, data)
        domain.check_start(command["started_on"], self.clock.today())
        application = self._application(application_id, lock=True)
        posting = self._posting(application.posting_id)
        now, operator_id = self.clock.now(), self.auth.operator.id
        hire = domain.hire(application, posting, command, now, operator_id)
        domain.require_open(posting, self.clock.today())
        hired, openings = self.store.take_opening(posting.id, now)
        employer = self._employer_of(posting)
        self.store.add_hire(hire)
        self._move(application, "hired", command["note"])
        filled = domain.filled(posting, hired, openings)
        if filled:
            self.store.close_posting(posting.id, domain.FILLED, now)
        self.store.emit(domain.hired_event(hire, employer.name), *filled)
        log.info(
            "veteran.hired",
            application_id=hire.application_id,
            posting_id=hire.posting_id,
            county_code=hire.county_code,
            operator_id=operator_id,
        )
        return {
            **domain.present_application(self._application(application.id)),
            "started_on": hire.started_on.isoformat(),
            "salary": hire.salary,
            "contract_months": hire.contract_months,
            "social_insurance": hire.social_insurance,
            "insured_from": hire.insured_from.isoformat() if hire.insured_from else None,
            "posting_remaining": openings - hired,
        }

    @rpc(roles=READ)
    def applications_for(self, veteran_id):
        """A veteran's applications, newest first, each with its history."""
        veteran = self._veteran(veteran_id)
        listings = self.store.applications_of(veteran.veteran_id)
        moves = self.store.history([listing.application.id for listing in listings])
        return domain.present_listings(listings, moves)

    def _move(self, application, target, note):
        moved, entry = domain.move(
            application, target, note, self.clock.now(), self.auth.operator.id
        )
        self.store.save_move(moved, entry)
        log.info(
            "application.moved",
            application_id=application.id,
            status=target,
            operator_id=self.auth.operator.id,
        )

    # -- statistics -----------------------------------------------------------------------
    @rpc(roles=STATS)
    def stats(self, county_code=None):
        county_code, counties, listed = self.stats_scope(county_code)
        figures = self.store.stats(counties, self.clock.today(), self.clock.now())
        return {"county_code": county_code, "counties": listed, **figures}

    # -- loading, within the caller's counties --------------------------------------------
    def _present(self, posting):
        return domain.present_posting(posting, self.clock.today())

    def _employer(self, employer_id):
        employer = self.store.get_employer(parse_uuid(employer_id, "employer_id"))
        if employer is None or not self.auth.may_see(employer.county_code):
            raise NotFound(f"no employer {employer_id}")
        return employer

    def _employer_of(self, posting):
        """A posting's employer, whatever its county (a posting always has one)."""
        employer = self.store.get_employer(posting.employer_id)
        if employer is None:
            raise NotFound(f"no employer {posting.employer_id}")
        return employer

    def _own(self, offer, kind, offer_id):
        """A public offer (posting, fair) to manage or to read figures of: only in the
        caller's counties; another county's is answered as a missing one."""
        if not self.auth.may_see(offer.county_code):
            raise NotFound(f"no {kind} {offer_id}")
        return offer

    def _posting(self, posting_id, lock=False):
        posting = self.store.get_posting(parse_uuid(posting_id, "posting_id"), lock=lock)
        if posting is None:
            raise NotFound(f"no posting {posting_id}")
        return posting

    def _fair(self, fair_id):
        fair = self.store.get_fair(parse_uuid(fair_id, "fair_id"))
        if fair is None:
            raise NotFound(f"no fair {fair_id}")
        return fair

    def _veteran(self, veteran_id):
        """The veteran as jobs knows them (from registry's events), within the caller's
        counties."""
        veteran = self.store.get_veteran(parse_uuid(veteran_id, "veteran_id"))
        if veteran is None or not self.auth.may_see(veteran.county_code):
            raise NotFound(
                f"jobs has no veteran {veteran_id} (registered veterans reach "
                "jobs through registry's events)"
            )
        return veteran

    def _application(self, application_id, lock=False):
        application = self.store.get_application(
            parse_uuid(application_id, "application_id"), lock=lock
        )
        if application is None or not self.auth.may_see(application.county_code):
            raise NotFound(f"no application {application_id}")
        return application
