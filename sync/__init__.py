"""The sync engine: wire types, hybrid logical clock, mutation registry, push and pull.

Pure Python and storage-agnostic: it talks to a database only through the ``Store``
protocol (``sync.store``), which the server implements with Piccolo and the tests
also implement in memory. No HTTP here. See docs/sync.md for the protocol.
"""
