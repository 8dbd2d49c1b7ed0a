"""The scheduler: every minute, fire due schedules and put due held messages back on their queues.

Runs as ``send_scheduler`` (an EventBridge rule every 60 s in the cloud; the local runtime's
scheduler on the platform clock locally). Each run drains everything due, :data:`PAGE` items at a
time, up to :data:`MAX_ITEMS_PER_RUN`. Firing is idempotent (module docstring of
:mod:`engagekit.campaigns.schedules`): the send is started first, the item cleared after.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from engagekit import clock
from engagekit.campaigns.messaging import fire
from engagekit.campaigns.schedules import Hold, ScheduleRecord
from engagekit.campaigns.service import CampaignsService
from engagekit.errors import ValidationError

logger = logging.getLogger(__name__)
PAGE = 100
MAX_ITEMS_PER_RUN = 5_000


def run_due(svc: CampaignsService) -> dict[str, Any]:
    """Fire what is due now; returns ``{"schedules": n, "holds": n, "failed": [schedule ids]}``.

    A schedule whose request no longer validates (campaign deleted or archived) is retired and
    reported in ``failed``; QueueError and storage errors propagate (the next run retries).
    """
    fired = held = 0
    failed: list[str] = []
    seen: set[str] = set()  # the due index is eventually consistent: an item may show up again
    while fired + held < MAX_ITEMS_PER_RUN:
        items = [
            i
            for i in svc.schedules.due(clock.now(), PAGE)
            if (i.schedule_id if isinstance(i, ScheduleRecord) else i.hold_id) not in seen
        ]
        if not items:
            break
        seen.update(i.schedule_id if isinstance(i, ScheduleRecord) else i.hold_id for i in items)
        holds: dict[str, list[Hold]] = defaultdict(list)
        for item in items:
            if isinstance(item, ScheduleRecord):
                try:
                    fire(item, svc)
                except ValidationError as exc:
                    logger.warning("schedule %s cannot fire: %s", item.schedule_id, exc)
                    failed.append(item.schedule_id)
                svc.schedules.set_state(item.schedule_id, "fired")
                fired += 1
            else:
                holds[item.queue].append(item)
        for queue, group in holds.items():
            svc.queues.send(queue, [h.body for h in group])
            for h in group:
                svc.schedules.delete_hold(h.hold_id)
            held += len(group)
    return {"schedules": fired, "holds": held, "failed": failed}
