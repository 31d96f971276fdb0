"""Reminder channels: where reminders and collection notices go (outbox letters first)."""
