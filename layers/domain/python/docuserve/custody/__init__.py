"""Chain of custody: signed delivery manifests (``signing``, ``manifest``) and the audit chain."""
