"""Telephony providers: dial, ring, answer, DTMF, transfer, hang up (sim/ is the default)."""
