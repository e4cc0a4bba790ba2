"""smart-turn's Whisper features are computed by our code: the window, the mel filters and
the features equal pipecat's (its private module, imported here only to pin the values)."""

from __future__ import annotations

import numpy as np
from pipecat.audio.turn.smart_turn import _whisper_features as pipecat_whisper

from openrevox.audio import turn_features


def test_the_window_and_the_mel_filters_are_pipecats() -> None:
    assert turn_features.N_FFT == pipecat_whisper._N_FFT
    assert turn_features.HOP == pipecat_whisper._HOP_LENGTH
    assert turn_features.N_MELS == pipecat_whisper._N_MELS
    assert turn_features.RATE == pipecat_whisper._SAMPLING_RATE
    assert turn_features.MEL_FLOOR == pipecat_whisper._MEL_FLOOR
    assert turn_features.NORM_EPS == pipecat_whisper._NORM_VARIANCE_EPS
    assert np.array_equal(turn_features.hann_window(), pipecat_whisper._HANN_WINDOW)
    ours = turn_features.mel_filters()
    assert ours.shape == pipecat_whisper._MEL_FILTERS.shape == (201, 80)
    assert np.allclose(ours, pipecat_whisper._MEL_FILTERS, rtol=1e-12, atol=0.0)


def test_the_features_of_front_padded_speech_and_of_silence_are_pipecats() -> None:
    rng = np.random.default_rng(7)
    seconds = np.arange(int(1.7 * 16000)) / 16000
    # A voiced-like signal: harmonics of a moving pitch, with noise.
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.8 * seconds)
    phase = 2 * np.pi * np.cumsum(pitch) / 16000
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8)) * 0.2
    for audio in (
        (voiced + 0.01 * rng.standard_normal(len(seconds))).astype(np.float32),
        rng.standard_normal(9 * 16000).astype(np.float32) * 0.1,  # longer than 8 s
        np.zeros(16000, dtype=np.float32),
    ):
        padded = turn_features.padded(audio)
        assert len(padded) == turn_features.SAMPLES
        expected = pipecat_whisper.compute_whisper_log_mel_features(padded)
        ours = turn_features.log_mel(padded)
        assert ours.shape == expected.shape == (80, 800)
        assert np.allclose(ours, expected, atol=1e-5)
