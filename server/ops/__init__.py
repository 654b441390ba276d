"""Operating a server: backups and the demo council."""
