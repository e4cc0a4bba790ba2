"""Any OpenAI-compatible speech server (/audio/speech, /audio/transcriptions)."""
