"""Pydantic models at the HTTP edge: requests validate input, responses are explicit allow-lists."""
