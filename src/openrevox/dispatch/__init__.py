"""Dispatch: workers that claim due attempts, hold leases and slots, and recover."""
