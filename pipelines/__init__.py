"""Dagster wiring of the journey-funnel pipeline: assets, checks, jobs, schedules, sensors."""
