"""HTTP plumbing every route shares: errors, middleware, templates, the API document, health, redacted logs."""
