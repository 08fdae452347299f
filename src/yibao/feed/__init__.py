"""The change feed: every change-log record published to the data platform's stream.

The change log (`storage.changelog`) is what the columnar replica applies; the feed publishes
the same records, pseudonymous like the replica, to NATS JetStream so that a data platform's
stream processors and lakes see every settlement as it commits (the seed's "integrates with
big-data and stream processing"). `docs/feed.md` is the operator's page.
"""
