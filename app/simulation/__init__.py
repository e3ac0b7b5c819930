"""Simulated traffic: the text generator and the history seeder."""
