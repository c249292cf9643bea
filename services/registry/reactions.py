"""What registry does when other services' events arrive: the card follows the facts
(hired → employed, left the job → unemployed, certified → certificate and skills, a
completed course or a certificate → trained), and
every event that concerns a veteran or an enterprise joins its timeline. All through the
inbox, in the same transaction as the inbox record."""

import structlog

from services.registry import domain
from services.registry.worker import RegistryWorker
from shared.contracts import followup, jobs, training
from shared.contracts.summaries import SUMMARIES, summary
from shared.messaging import batch_event_handler, event_handler

log = structlog.get_logger(__name__)
# Events registry's own changes produce are recorded where they happen, not consumed.
OWN = "registry"


class Reactions(RegistryWorker):
    @event_handler("jobs", jobs.VETERAN_HIRED)
    def on_veteran_hired(self, event):
        self._record(event)
        data = event.data
        self._change(
            event,
            data["veteran_id"],
            domain.hired(
                None, data.get("employer_name") or data["employer_id"], data["started_on"]
            ),
            reason="veteran_hired",
        )

    @event_handler("followup", followup.REVISIT_COMPLETED)
    def on_revisit_completed(self, event):
        self._record(event)
        if event.data["outcome"] == "left_job":
            self._change(
                event,
                event.data["veteran_id"],
                {"employment_status": "unemployed"},
                reason="left_job",
            )

    @event_handler("training", training.CERTIFICATE_ISSUED)
    def on_certificate_issued(self, event):
        self._record(event)
        veteran = self.store.get_veteran(event.data["veteran_id"], lock=True)
        if veteran is not None:
            self._change(
                event,
                veteran.id,
                {
                    **domain.certified(
                        veteran, event.data["certificate_name"], event.data["skills_granted"]
                    ),
                    **domain.took_training(),
                },
                reason="certificate_issued",
                veteran=veteran,
            )

    @event_handler("training", training.TRAINING_COMPLETED)
    def on_training_completed(self, event):
        """The veteran took skills training (passed or not: the annual form's column F
        counts who took it). Setting ``trained`` again changes nothing."""
        self._record(event)
        self._change(
            event, event.data["veteran_id"], domain.took_training(), reason="training_completed"
        )

    def _change(self, event, veteran_id, changes, reason, veteran=None):
        veteran = veteran or self.store.get_veteran(veteran_id, lock=True)
        if veteran is None:
            log.warning("reaction.unknown_veteran", veteran_id=veteran_id, type=event.type)
            return
        self.apply_changes(veteran, changes, reason=reason, cause_event_id=event.event_id)

    def _record(self, *events):
        self.store.add_timeline_rows(timeline_rows(events))


def timeline_rows(events):
    """The timeline rows of other services' events: one for the veteran and one for the
    enterprise each concerns, as ``(event_id, veteran_id, enterprise_id, at, source, type,
    summary)``."""
    rows = []
    for event in events:
        data = event.data
        text = summary(event.source, event.type, data)
        if data.get("veteran_id"):
            rows.append(
                (
                    event.event_id,
                    data["veteran_id"],
                    None,
                    event.occurred_at,
                    event.source,
                    event.type,
                    text,
                )
            )
        if data.get("enterprise_id"):
            rows.append(
                (
                    event.event_id,
                    None,
                    data["enterprise_id"],
                    event.occurred_at,
                    event.source,
                    event.type,
                    text,
                )
            )
    return rows


REACTING = {
    ("jobs", jobs.VETERAN_HIRED),
    ("followup", followup.REVISIT_COMPLETED),
    ("training", training.CERTIFICATE_ISSUED),
    ("training", training.TRAINING_COMPLETED),
}
# Every other service's event that concerns a veteran or an enterprise, fed through one
# queue (a quorum queue per event type would cost the broker a Raft group each).
TIMELINE_ONLY = sorted(
    (source, event_type)
    for source, event_type in SUMMARIES
    if source != OWN and (source, event_type) not in REACTING
)


class TimelineHandlers(RegistryWorker):
    # A timeline line is small work: take the waiting events in one transaction.
    @batch_event_handler(*TIMELINE_ONLY[0], also=TIMELINE_ONLY[1:])
    def on_timeline_event(self, events):
        self.store.add_timeline_rows(timeline_rows(events))
