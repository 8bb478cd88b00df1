"""Plumbing for the TaskRouter quickstart notebooks.

The learner writes SDK calls and the Flask route; everything else (servers,
tunnels, widgets, the local TaskRouter) lives here.
"""
