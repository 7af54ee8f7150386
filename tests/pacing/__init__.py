"""Tests of the pacing engine and its queueing formulas (numpy only, no Django)."""
