"""Migration scripts, one per schema revision, applied in order by :func:`openncii.db.migrate`."""
