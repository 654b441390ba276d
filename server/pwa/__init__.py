"""Serving the organisers' offline app (the files under pwa/)."""
