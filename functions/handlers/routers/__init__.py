"""Route groups of the members function, one module per feature (Powertools ``Router``s)."""
