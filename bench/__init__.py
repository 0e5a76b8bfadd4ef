"""``make bench``: DocuServe's speed claims as numbers (see ``docs/performance.md``)."""
