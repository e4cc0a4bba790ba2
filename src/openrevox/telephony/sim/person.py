"""The simulated callee of each persona code: a rule-based conversation partner that
reacts to what the agent says (SANDBOX.md)."""

from __future__ import annotations

import asyncio
import re

from openrevox.telephony.sim.line import SimLine, Utterance

NAME = "Alex Martin"
EMAIL = "alex.martin@example.com"
UNANSWERABLE = "Do you ship to Antarctica, and what does it cost?"
GOODBYE = re.compile(r"\b(goodbye|bye|have a (nice|great|good) day)\b", re.IGNORECASE)
LISTEN = 30.0  # seconds a person waits for the agent before giving up
REACTION = 0.3  # seconds a person leaves after the agent stops, before answering


def _last_question(said: str) -> str:
    """The last question of a turn (a turn may first answer, then ask), else all of it."""
    questions = re.findall(r"[^.!?]*\?", said)
    return questions[-1] if questions else said


def cooperative_reply(said: str) -> str:
    """What persona 00 answers to one agent turn: to its last question, if it asks one."""
    text = _last_question(said).lower()
    if "email" in text:
        return f"My email is {EMAIL}."
    if "first name" in text:
        return "My first name is Alex."
    if "last name" in text or "surname" in text:
        return "My last name is Martin."
    if "name" in text:
        return f"My name is {NAME}."
    if "?" in text:
        return "Yes, absolutely."
    return "Okay, sounds good."


async def _agent_turn(line: SimLine, wait: float) -> Utterance | None:
    """Everything the agent says before it yields the floor, heard as one turn: after each
    utterance the person pauses briefly; if the agent speaks on, they listen on, and then
    answer the whole turn (never its first half)."""
    heard = await line.person_hears(wait)
    if heard is None or heard.dtmf:
        return heard
    said = [heard.text]
    while True:
        await asyncio.sleep(line.scaled(REACTION))
        if not line.agent_speaking and line.to_person.empty():
            return Utterance(" ".join(said))
        more = await line.person_hears(wait)
        if more is None or more.dtmf:
            return more if more is not None else Utterance(" ".join(said))
        said.append(more.text)


async def _until_goodbye(line: SimLine, first: str | None, reply: str | None = None) -> None:
    """Answer each agent turn (``reply`` or the cooperative rule) until the agent says
    goodbye or hangs up."""
    if first:
        await line.person_says(first)
    while True:
        heard = await _agent_turn(line, LISTEN)
        if heard is None:
            if line.agent_hung_up:
                return
            await line.person_hangs_up()
            return
        if heard.dtmf:
            continue
        if GOODBYE.search(heard.text):
            await line.person_says("Goodbye!")
            await line.person_hangs_up()
            return
        await line.person_says(reply or cooperative_reply(heard.text))


async def _one_request_then_cooperate(line: SimLine, request: str) -> None:
    await line.person_says("Hello?")
    heard = await _agent_turn(line, LISTEN)
    if heard is None:
        return
    await _until_goodbye(line, request)


async def _busy_callback(line: SimLine) -> None:
    await line.person_says("Hello?")
    await _agent_turn(line, LISTEN)
    await line.person_says("Sorry, I'm busy right now. Can you call me back later?")
    await line.person_hangs_up()


async def _hangs_up_at_once(line: SimLine) -> None:
    await line.person_says("Hello?")
    await line.person_hangs_up()


async def _keeps_talking(line: SimLine) -> None:
    await line.person_says("Hello?")
    await asyncio.sleep(line.scaled(1.0))  # waits a moment for an answer, then never pauses
    topics = ["the weather", "my garden", "my cat", "the news", "my holidays"]
    turn = 0
    while not line.agent_hung_up:  # never pauses long enough to be answered
        line.person_speaking = True
        await line.person_says(
            f"Let me tell you about {topics[turn % len(topics)]}, it's a long story."
        )
        line.person_speaking = True
        turn += 1


async def _stop_calling(line: SimLine) -> None:
    await line.person_says("Hello?")
    await _agent_turn(line, LISTEN)
    await line.person_says("Stop calling me. Put me on your do not call list.")
    await _until_goodbye(line, None, reply="I said stop calling me.")


async def _interrupts(line: SimLine) -> None:
    """Cuts in once the agent is mid-sentence."""
    await line.person_says("Hello?")
    if await line.person_waits_for_the_agent_to_speak(LISTEN):
        await asyncio.sleep(line.scaled(0.6))
    await line.person_says("Wait, wait, sorry to interrupt: who is this exactly?", interrupt=True)
    await line.person_hears(LISTEN)  # what the agent managed to say before stopping
    await _until_goodbye(line, None)


async def _silent(line: SimLine) -> None:
    while not line.agent_hung_up:
        if await line.person_hears(LISTEN) is None and not line.agent_hung_up:
            await line.person_hangs_up()
            return


VOICEMAIL = "Hi, you've reached Alex Martin. I can't take your call right now."
LONG_VOICEMAIL = VOICEMAIL + (
    " I'm away from my desk or on another call. Please leave your name, your number,"
    " the reason for your call and the best time to reach you, and I'll get back to"
    " you as soon as I can. Thanks a lot for calling, and have a wonderful day."
)
AFTER_THE_TONE = " Please leave a message after the tone."
MENU = "Welcome to Martin and Co. Press 1 for sales, 2 for support."
SCREENING = (
    "Hi, if you record your name and reason for calling, I'll see if this person is available."
)
# What the machines say first (an audio line renders them before the call starts: a
# machine answers at once).
MACHINE_OPENINGS = (VOICEMAIL + AFTER_THE_TONE, LONG_VOICEMAIL + AFTER_THE_TONE, MENU, SCREENING)


async def _voicemail(line: SimLine, long: bool) -> None:
    await line.person_says((LONG_VOICEMAIL if long else VOICEMAIL) + AFTER_THE_TONE)
    await line.person_beeps()
    while await line.person_hears(10.0) is not None:
        pass  # the recorder keeps listening until the caller hangs up
    if not line.agent_hung_up:
        await line.person_hangs_up()


async def _ivr(line: SimLine) -> None:
    await line.person_says(MENU)
    for _ in range(3):
        heard = await line.person_hears(10.0)
        if heard is None:
            break
        if heard.dtmf == "1":
            await _one_request_then_cooperate(line, "Hi, this is Alex Martin from sales.")
            return
        if heard.dtmf:
            await line.person_says("Invalid choice. Press 1 for sales, 2 for support.")
    if not line.agent_hung_up:
        await line.person_says("Goodbye.")
        await line.person_hangs_up()


async def _screening(line: SimLine) -> None:
    await line.person_says(SCREENING)
    heard = await _agent_turn(line, LISTEN)
    if heard is not None and not line.agent_hung_up:
        await line.person_hangs_up()


async def play(persona: str, line: SimLine) -> None:
    """Run the persona until it or the agent hangs up."""
    if persona == "00":
        await _until_goodbye(line, "Hello?")
    elif persona == "01":
        await _one_request_then_cooperate(line, "Can I speak to a human, please?")
    elif persona == "02":
        await _one_request_then_cooperate(line, UNANSWERABLE)
    elif persona == "03":
        await _one_request_then_cooperate(line, "I'd like to book a meeting with you.")
    elif persona == "04":
        await _busy_callback(line)
    elif persona == "05":
        await _hangs_up_at_once(line)
    elif persona == "06":
        await _keeps_talking(line)
    elif persona == "07":
        await _stop_calling(line)
    elif persona == "08":
        await _interrupts(line)
    elif persona == "09":
        await _silent(line)
    elif persona in ("20", "21"):
        await _voicemail(line, long=persona == "21")
    elif persona == "30":
        await _ivr(line)
    elif persona == "48":
        await _screening(line)
    else:
        await _until_goodbye(line, "Hello?")


__all__ = ["EMAIL", "NAME", "Utterance", "cooperative_reply", "play"]
