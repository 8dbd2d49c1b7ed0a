"""User profiles: identity resolution, attribute operations, event and purchase folding, the store.

- :mod:`~engagekit.profiles.identity`: identifiers and identity-index keys;
- :mod:`~engagekit.profiles.resolve`: which profile an identifier names (Braze's tie-breaks);
- :mod:`~engagekit.profiles.attributes`: user attributes objects -> operations -> profile;
- :mod:`~engagekit.profiles.behaviors`: event and purchase objects -> aggregates;
- :mod:`~engagekit.profiles.behavior_events`: the Currents events of a change;
- :mod:`~engagekit.profiles.store`: the :class:`ProfileStore` port, DynamoDB adapter and fake;
- :mod:`~engagekit.profiles.writer`: one conditional write per user, retried on a lost race;
- :mod:`~engagekit.profiles.projection`: the profile -> exported user object;
- :mod:`~engagekit.profiles.limits`: the documented limits.

The profile itself is :class:`engagekit.domain.profile.Profile`.
"""
