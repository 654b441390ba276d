"""Staff review (issue #6): grant rules, group and session review, exports, dashboard, safety checks."""
