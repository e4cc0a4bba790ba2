"""The phrasebook: spoken phone-call English the simulated network's recognizer expects.

pocketsphinx decodes best with a language model of its task (that is how CMU Sphinx is
meant to be used). The task here is a phone call: greetings, who is calling, questions
for a name, an email or a number, the answers, yes and no, callbacks, transfers,
voicemail greetings, IVR menus, goodbyes. This module writes that English out as
lowercase sentences, the way a recognizer hears them (``alex dot martin at example dot
com``, ``press one``), from templates and slot values. ``stt.py`` builds a trigram model
from these sentences, plus the assistant's own texts as phrase hints, plus the most
common words of pocketsphinx's general English model so that anything else said is
still recognized, word by word.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

FIRST_NAMES = (
    "alex", "anna", "ben", "chris", "daniel", "david", "emma", "james", "john", "julia",
    "kate", "laura", "lisa", "maria", "mark", "michael", "paul", "peter", "sam", "sarah",
    "susan", "thomas", "tom", "william",
)  # fmt: skip
LAST_NAMES = (
    "brown", "clark", "davis", "garcia", "johnson", "jones", "lee", "lewis", "martin",
    "miller", "moore", "smith", "taylor", "thomas", "walker", "white", "williams", "wilson",
)  # fmt: skip
DOMAINS = ("example", "gmail", "yahoo", "outlook", "hotmail", "acme", "company", "mail")
TLDS = ("com", "org", "net", "io", "co")
COMPANIES = ("acme", "martin and co", "the company", "our company", "your bank", "the clinic")
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FIELDS = (
    "name", "full name", "first name", "last name", "email", "email address",
    "phone number", "number", "address", "date of birth", "company", "job title",
    "budget", "preferred time", "availability", "order number", "account number",
    "zip code", "city", "age",
)  # fmt: skip
TOPICS = ("the weather", "my garden", "my cat", "the news", "my holidays", "my dog", "my work")
DEPARTMENTS = ("sales", "support", "billing", "an operator", "reception", "accounts")

FIXED = """
hello
hello who is this
hi
hi there
hey
yes hello
good morning
good afternoon
good evening
how are you
i'm fine thanks
i'm good thank you and you
who is this
who's calling
who is this exactly
wait wait sorry to interrupt who is this exactly
sorry to interrupt
what is this about
what's this about
what is this call about
yes
yeah
yep
sure
of course
absolutely
yes absolutely
yes of course
that's right
that's correct
correct
exactly
no
nope
no thanks
no thank you
not really
never
okay
ok
okay sounds good
sounds good
alright
great
perfect
fine
i see
i don't know
i'm not sure
maybe
can you repeat that
sorry what did you say
could you say that again
i can't hear you
can you hear me
are you still there
thank you
thanks
thank you very much
thank you for your time
thank you for your time goodbye
thanks for calling
goodbye
bye
bye bye
goodbye and have a nice day
have a nice day
have a great day
have a good day
talk to you soon
take care
can i speak to a human please
can i speak to a real person
i want to talk to someone
i want to speak to an agent
is there someone else i can talk to
sure let me transfer you to a colleague
please hold while i transfer you
i'm sorry nobody else is available right now
sorry i'm busy right now can you call me back later
i'm busy right now
can you call me back later
call me back later
call me back tomorrow
this is not a good time
stop calling me
stop calling me put me on your do not call list
put me on your do not call list
i said stop calling me
do not call me again
don't call me again
remove my number from your list
i'm not interested
i understand we will not call you again goodbye
of course we'll call you back later goodbye
i'd like to book a meeting with you
i'd like to book an appointment
can we book a call
can we schedule a meeting
great i've requested a booking you'll receive the invitation by email
i can't book meetings myself but a colleague will follow up
that's a good question i'll ask a colleague and get back to you
i can't hear you so i'll let you go goodbye
do you ship to antarctica and what does it cost
how much does it cost
what does it cost
what are your opening hours
where are you located
do you deliver on weekends
how long does delivery take
what is your return policy
hi you've reached alex martin i can't take your call right now
i'm away from my desk or on another call
please leave your name your number the reason for your call and the best time to reach you
and i'll get back to you as soon as i can
thanks a lot for calling and have a wonderful day
please leave a message after the tone
please leave a message after the beep
leave a message after the tone
the person you are calling is not available
hi if you record your name and reason for calling i'll see if this person is available
please state your name and the reason for your call
invalid choice
please hold
your call is important to us
please stay on the line
hi this is alex martin from sales
let me check that for you
one moment please
is now a good time to talk
do you have a minute
i'm calling about your order
i'm calling about our spring offer
we have a special offer this week
would you be interested
are you interested
can i ask you a few questions
it will only take a minute
let me tell you about it it's a long story
sorry who is this
sorry what
sorry i didn't catch that
sorry what was that
who am i speaking with
who are you
who are you calling for
what company are you with
where are you calling from
how did you get my number
why are you calling
what do you want
i'm sorry i don't understand
could you speak up please
could you slow down please
i'm in a meeting
i'm driving right now
i'm at work
can you send me an email
can you send me the details
send me the information by email
what's the price
is there a discount
how long is the contract
can i cancel anytime
that's too expensive
i need to think about it
let me think about it
i'll call you back
call me tomorrow morning
call me next week
the best time is in the afternoon
you can call me on monday
i already have one
i already said no
not right now
maybe later
yes please
yes that works
yes that's me
no that's not me
wrong number
you have the wrong number
speaking
this is she
this is he
he's not here right now
she's not available
can i take a message
hold on a second
just a moment
i'm still here
hello are you there
i can hear you
the line is bad
you're breaking up
"""

TEMPLATES = (
    "hello this is {company} calling",
    "hello this is {company} calling about our offer",
    "hi this is {first} from {company}",
    "hello this is {first} calling on behalf of {company}",
    "i'm calling on behalf of {company}",
    "could you tell me your {field}",
    "can you tell me your {field}",
    "what is your {field}",
    "what's your {field}",
    "may i have your {field}",
    "can i have your {field} please",
    "could you confirm your {field}",
    "could you spell your {field}",
    "my {field} is",
    "thank you i've noted your {field}",
    "my name is {first} {last}",
    "my name is {first}",
    "i'm {first} {last}",
    "this is {first} {last}",
    "it's {first} {last}",
    "my first name is {first}",
    "my last name is {last}",
    "my email is {first} dot {last} at {domain} dot {tld}",
    "my email is {first} at {domain} dot {tld}",
    "my email address is {first} {last} at {domain} dot {tld}",
    "it's {first} dot {last} at {domain} dot {tld}",
    "you can reach me at {first} at {domain} dot {tld}",
    "my number is {d1} {d2} {d3} {d4} {d5} {d6} {d7}",
    "it's {d1} {d2} {d3} {d4}",
    "press {d1}",
    "press {d1} for {department}",
    "welcome to {company} press {d1} for {department} {d2} for {department2}",
    "invalid choice press {d1} for {department} {d2} for {department2}",
    "you've reached {first} {last} please leave a message after the tone",
    "can i speak to {first}",
    "is {first} there",
    "let me tell you about {topic} it's a long story",
    "i want to talk about {topic}",
)


def _fill(template: str, values: dict[str, str]) -> str:
    return template.format(**values)


def _slot_values(index: int) -> dict[str, str]:
    """The ``index``-th combination of slot values (deterministic, spread evenly)."""

    def pick(options: tuple[str, ...], salt: int) -> str:
        return options[(index * 7 + salt * 13 + index // 5) % len(options)]

    return {
        "first": pick(FIRST_NAMES, 0),
        "last": pick(LAST_NAMES, 1),
        "domain": pick(DOMAINS, 2),
        "tld": pick(TLDS, 3),
        "company": pick(COMPANIES, 4),
        "field": pick(FIELDS, 5),
        "topic": pick(TOPICS, 6),
        "department": pick(DEPARTMENTS, 7),
        "department2": pick(DEPARTMENTS, 8),
        **{f"d{n}": pick(DIGITS, 9 + n) for n in range(1, 8)},
    }


# Names and emails are what a recognizer most often gets wrong and an agent most needs:
# these templates are filled with every first and last name, not a sample.
EVERY_NAME = (
    "my name is {first} {last}",
    "my email is {first} dot {last} at {domain} dot {tld}",
)


def sentences(variants_per_template: int = 40) -> Iterator[str]:
    """Every phrasebook sentence: the fixed ones, then each template filled with
    ``variants_per_template`` combinations of slot values."""
    for line in FIXED.strip().splitlines():
        yield line.strip()
    for template, index in itertools.product(TEMPLATES, range(variants_per_template)):
        yield _fill(template, _slot_values(index))
    for field in FIELDS:  # every field in the agent's questions, not only a sample
        yield f"could you tell me your {field}"
    pairs = itertools.product(FIRST_NAMES, LAST_NAMES)
    for index, (first, last) in enumerate(pairs):
        for template in EVERY_NAME:
            yield _fill(template, {**_slot_values(index), "first": first, "last": last})


_NUMBER_WORDS = dict(zip("0123456789", DIGITS, strict=True))


def spoken(text: str) -> str:
    """Written text as a recognizer would hear it: lowercase words, emails and digits
    spelled out, punctuation gone (``alex.martin@example.com`` -> ``alex dot martin at
    example dot com``)."""
    text = text.lower().replace("@", " at ")
    text = re.sub(r"(?<=\w)\.(?=\w)", " dot ", text)
    text = re.sub(r"\d", lambda digit: f" {_NUMBER_WORDS[digit.group(0)]} ", text)
    return " ".join(re.findall(r"[a-z]+(?:'[a-z]+)?", text))


_SENTENCE_END = re.compile(r"[.!?;:]+(?:\s+|$)")


def corpus(hints: Iterable[str] = ()) -> list[str]:
    """The phrasebook and the hints (split into sentences), spoken, one sentence a line."""
    hinted = (spoken(part) for hint in hints for part in _SENTENCE_END.split(hint))
    return [line for line in (*sentences(), *hinted) if line]
