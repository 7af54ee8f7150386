"""The pacing service: targets, stats, the numpy engine, the GPE client, the leader lease, the cycle."""
