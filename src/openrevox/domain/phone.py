"""Phone numbers in E.164, national formats read with the organization's country."""

from __future__ import annotations

import phonenumbers


def normalize_e164(raw: str, *, default_region: str) -> str:
    """``+33 6 12 34 56 78``, ``06 12 34 56 78`` (FR) -> ``+33612345678``; ValueError if not."""
    text = raw.strip()
    if not text:
        raise ValueError("a phone number is required")
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"'{raw}' is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        where = "" if text.startswith("+") else f" (read as a {default_region} number)"
        raise ValueError(f"'{raw}' is not a valid phone number{where}; use E.164 like +14155550100")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
