"""Web Push reminders: VAPID keys, subscriptions, due-time rules, the delivery scheduler."""
