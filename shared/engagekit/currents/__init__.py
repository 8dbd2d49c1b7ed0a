"""Currents: every behaviour and message event exported to S3 in Braze Currents' shape.

- :mod:`engagekit.currents.events`: the event schemas (braze-api.md §6) and their builders;
- :mod:`engagekit.currents.exporter`: the :class:`CurrentsExporter` port, which packs events into
  Firehose records, the Firehose adapter and an in-memory fake;
- :mod:`engagekit.currents.query`: DuckDB views over the exported files (local analysis).

See docs/currents.md for the layout in S3, every event type and its fields, and example queries.
"""
