"""LLM providers behind one interface: OpenAI-compatible chat completions with streaming
and tool calls (dedicated instances, OpenRouter, custom endpoints)."""
