"""Audio fidelity: live calls as real 8 kHz mu-law audio (docs/audio-fidelity.md).

``line.AudioLine`` is the agent's ``telephony.base.Line`` over audio. Beneath it:
``codec`` (mu-law, resampling), ``tts`` (the bundled Piper voice), ``silero`` and ``vad``
(pipecat's Silero VAD on one shared, batched onnxruntime session), ``turn`` (pipecat's
smart-turn v3 in helper processes every call shares), ``stt`` and ``phrasebook``
(pocketsphinx with a phone-call language model), ``tones`` (beeps), ``ambience`` (the
background sound), ``ear`` and ``mouth`` (one side's hearing and voice), ``side`` and
``wire`` (a call's ends and what travels between them), and ``engine`` (the 20 ms clock
of every call in the process). pipecat is imported here and nowhere else, through public names only.
"""
