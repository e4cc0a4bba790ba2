"""Twilio as a carrier: the Calls REST API to dial, TwiML ``<Connect><Stream>`` to bring
the call's audio to a websocket of ours, signed status callbacks for its progress.

Only Twilio's own code lives here; the engine reaches it through
``telephony.base.TelephonyProvider`` and the app mounts its Starlette router.
"""
