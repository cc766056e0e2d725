"""Irregularity checks that cut across KPIs."""
