"""Deepgram live STT over its /v1/listen websocket."""
