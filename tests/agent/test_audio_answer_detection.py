"""Who answered, at audio fidelity, end to end: the SANDBOX.md personas that answer
with a person, a voicemail (with and without a message), an IVR menu and call screening
reach the right ``result`` through the audio classifier (``audio/answer.py``), and the
attempt's ``openrevox.answer_detection`` says how and when it decided. Real-time calls
through the worker, the simulated network and the sandbox agent (official SDK)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import revox

from openrevox.store.migrate import upgrade_to_head
from tests.conftest import LiveServer, make_settings
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

pytestmark = pytest.mark.serial  # real-time audio calls: a loaded machine skews their timing


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("answer-detection")
    url = f"sqlite:///{data_dir / 'openrevox.db'}"
    from openrevox.settings import Settings

    upgrade_to_head(Settings(database_url=url).database_url)
    live = LiveServer(make_settings(url, data_dir, sim_fidelity="audio"), embedded_worker=True)
    yield live.start()
    live.stop()


def call(server: LiveServer, code: str, **assistant: Any) -> Any:
    org = server.new_org()
    caller = revox.Revox(api_key=org.test_key, base_url=f"{server.url}/api", max_retries=0)
    config = {
        "prompt": "You call on behalf of Acme about the spring offer.",
        "first_sentence": "Hello, this is Acme calling about our spring offer.",
        "first_sentence_mode": "static",
        "call_retry_config": retry_config(1),
        **assistant,
    }
    number = f"+1415555{100 + int(code):04d}"
    created = caller.call.create(phone_number=number, assistant=config)  # type: ignore[arg-type]
    attempt = wait_until_done(caller, created.call.id, timeout=150).call_attempts[0]
    detection = (attempt.model_extra or {})["openrevox"]["answer_detection"]
    return attempt, detection


def test_00_a_person_who_says_hello_is_human_within_three_seconds(server: LiveServer) -> None:
    attempt, detection = call(server, "00")
    assert attempt.result == "human" and detection["result"] == "human", detection
    assert detection["reason"] == "timing:short_greeting"
    assert detection["decided_ms"] < 3000  # "Hello?" at 0.6 s, then 0.8 s of quiet
    assert detection["signals"]["first_voice_ms"] >= 500


def test_20_voicemail_leaves_the_message_after_the_real_beep(server: LiveServer) -> None:
    attempt, detection = call(server, "20", voicemail_message="Please call Acme back.")
    assert attempt.result == "voicemail" and attempt.end_reason == "voicemail", detection
    assert detection["result"] == "voicemail"
    assert detection["reason"] in ("transcript:voicemail", "timing:long_greeting", "beep")
    (beep,) = detection["beeps"]  # heard in the audio, after the decision
    assert 400 <= beep["hz"] <= 2000
    assert beep["at_ms"] > detection["decided_ms"]
    contents = [entry.content for entry in attempt.transcript]
    assert contents[-1] == "Please call Acme back." and "[beep]" not in contents


def test_21_long_greeting_without_a_message_hangs_up(server: LiveServer) -> None:
    attempt, detection = call(server, "21")
    assert attempt.result == "voicemail" and attempt.end_reason == "voicemail", detection
    assert "assistant" not in [entry.role for entry in attempt.transcript]
    assert detection["decided_ms"] <= 6000  # the ceiling


def test_30_an_ivr_menu_is_left_or_navigated(server: LiveServer) -> None:
    refused, detection = call(server, "30")
    assert refused.result == "IVR" and refused.end_reason == "ivr_no_navigate", detection
    assert detection["reason"] == "transcript:menu"
    navigated, _ = call(server, "30", ivr_navigation_enabled=True)
    dtmf = next(entry for entry in navigated.transcript if entry.role == "tool")
    assert dtmf.tool_name == "send_dtmf" and dtmf.tool_arguments == {"digits": "1"}
    assert navigated.result == "human"


def test_48_call_screening_gets_an_introduction(server: LiveServer) -> None:
    attempt, detection = call(server, "48", name="Acme")
    assert attempt.result == "ios-screening-filter", detection
    assert attempt.end_reason == "user_unavailable"
    assert detection["reason"] == "transcript:screening"
    assert "assistant" in [entry.role for entry in attempt.transcript]  # who is calling
