"""ElevenLabs TTS over its multi-context websocket."""
