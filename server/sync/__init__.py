"""The sync area: the sync engine (top-level ``sync/``) over HTTP and Piccolo, and the
sessions a schedule makes ahead."""
