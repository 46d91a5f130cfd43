"""Gather and classify: read CSV, JSON and SDK-graph exports into inventory objects."""
