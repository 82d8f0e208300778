"""Moderation: blind second audits of a share of each cycle's submitted audits, how well the two
auditors agree, and the adjudicated grade that reports use where they disagree."""
