"""Voices: provider clients (Cartesia, ElevenLabs), the preset catalogue and local speech."""
