"""Campaigns: definitions, the messaging API, audiences, dispatch, schedules and the send ledger.

- :mod:`~engagekit.campaigns.definitions`: campaign and frequency-capping rule models;
- :mod:`~engagekit.campaigns.manage`: ``PUT/GET /campaigns/{id}`` and ``/frequency_caps/{id}``;
- :mod:`~engagekit.campaigns.messaging`: ``/campaigns/trigger/send``, ``/messages/send``,
  ``/sends/id/create``, the schedule endpoints (braze-api.md §2);
- :mod:`~engagekit.campaigns.dispatch`: dispatch records, enqueueing, the send run's tasks;
- :mod:`~engagekit.campaigns.audience`: segment shards and profile scans as Map units;
- :mod:`~engagekit.campaigns.ledger` (+ ``ledger_dynamo``): exactly-once claims and outcomes;
- :mod:`~engagekit.campaigns.rules`: quiet hours, frequency caps, local time (user's zone);
- :mod:`~engagekit.campaigns.schedules` + :mod:`~engagekit.campaigns.scheduler`: scheduled sends and
  held messages;
- :mod:`~engagekit.campaigns.service`: the composition root.

Channel senders live in :mod:`engagekit.channels`. Users' guide: docs/campaigns.md.
"""
