"""What every area may use: the audit log, dates and clocks, messages and labels, rate counters, schedules."""
