"""Simulators of what cannot run here: the contact centre (Stat Server's view of it) and GPE."""
