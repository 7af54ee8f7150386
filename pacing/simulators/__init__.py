"""Simulators of what cannot run here: the contact centre (Stat Server's view of it) and GPE.

``contact_centre.ContactCentre`` counts visitors in 1-second steps (memoryless times);
``individual.IndividualCentre`` keeps every invitation, visitor and chat as an individual in continuous time and
reports late, windowed statistics; both have the same public API. ``gpe`` is GPE's side of the pacing exchange.
"""
