"""What Twilio reports for a call that was not answered, onto the contract's eight
``dial_error`` values (docs/telephony.md carries this table).

Pure: a terminal ``CallStatus``, the ``SipResponseCode`` of the status callback, or the
error ``code`` of a refused ``POST /Calls`` in; a dial error out.
"""

from __future__ import annotations

from typing import Final

from openrevox.telephony.base import DialError

# SIP final responses (RFC 3261 and Twilio's "SIP response codes" guide).
SIP_CODES: Final[dict[int, DialError]] = {
    404: "number_non_attributed",  # not found
    410: "number_non_attributed",  # gone
    484: "number_non_attributed",  # address incomplete
    604: "number_non_attributed",  # does not exist anywhere
    486: "busy",
    600: "busy",  # busy everywhere
    603: "busy",  # declined
    408: "no_answer",  # request timeout
    487: "no_answer",  # request terminated (rang out)
    480: "temporarily_unavailable",
    503: "too_many_calls",  # the far network is overloaded
    403: "no_international_permission",
    412: "precondition_failed",
    421: "precondition_failed",  # extension required
    428: "precondition_failed",
}

# Error codes of a refused ``POST /Calls`` (https://www.twilio.com/docs/api/errors).
REST_CODES: Final[dict[int, DialError]] = {
    21211: "number_non_attributed",  # invalid 'To' phone number
    21217: "number_non_attributed",  # phone number does not appear to be valid
    13224: "number_non_attributed",  # invalid phone number
    21215: "no_international_permission",  # geo permission not enabled
    21216: "no_international_permission",  # account not allowed to call this number
    13227: "no_international_permission",  # no international permission
    20429: "too_many_calls",  # too many requests
    14107: "too_many_calls",  # rate limit exceeded
    21210: "precondition_failed",  # caller ID not verified for this account
    21212: "precondition_failed",  # invalid caller ID
    21219: "precondition_failed",  # trial accounts call verified numbers only
}

# Terminal statuses of a call that never reached ``in-progress``.
UNANSWERED_STATUSES: Final = frozenset({"busy", "no-answer", "failed", "canceled"})


def from_status(status: str, sip_code: int | None) -> DialError:
    """The dial error of a call that ended ``busy``, ``no-answer``, ``canceled`` or
    ``failed`` (``failed`` is told apart by its SIP response code)."""
    if status == "busy":
        return "busy"
    if status in ("no-answer", "canceled"):
        return "no_answer"
    if sip_code is not None and sip_code in SIP_CODES:
        return SIP_CODES[sip_code]
    return "non_classified_error"


def from_rest_error(code: int | None, http_status: int) -> DialError:
    """The dial error of a ``POST /Calls`` that Twilio refused for good (4xx)."""
    if code is not None and code in REST_CODES:
        return REST_CODES[code]
    if http_status == 429:
        return "too_many_calls"
    return "non_classified_error"
