"""The simulated phone network of SANDBOX.md: a telephony provider with no carrier."""
