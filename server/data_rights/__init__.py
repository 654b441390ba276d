"""A leaving group's export and a participant's erasure: the records and the admin pages."""
