"""Thin Lambda handler modules. Each sets up a resolver, declares routes, and calls logic."""
