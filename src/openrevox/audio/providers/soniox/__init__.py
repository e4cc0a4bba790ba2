"""Soniox's realtime STT (``stt.py``)."""
