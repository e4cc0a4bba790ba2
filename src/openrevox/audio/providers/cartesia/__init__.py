"""Cartesia's streaming TTS (``tts.py``)."""
