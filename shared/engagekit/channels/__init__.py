"""Channel senders: the send pipeline, per-channel adapters, providers and the inbox.

- :mod:`~engagekit.channels.sender`: claim → check → render → rate limit → provider → outcome;
- :mod:`~engagekit.channels.adapters`: email, SMS, webhook, push, content card / in-app specifics;
- :mod:`~engagekit.channels.ports` / :mod:`~engagekit.channels.providers` /
  :mod:`~engagekit.channels.fakes`: SES v2, SNS SMS, SNS push endpoints, HTTPS, in-memory fakes;
- :mod:`~engagekit.channels.inbox`: the per-user inbox behind ``/content_cards/sync``;
- :mod:`~engagekit.channels.feedback`: SES events back into profiles and Currents;
- :mod:`~engagekit.channels.service`: the composition root and the SQS record handler.
"""
