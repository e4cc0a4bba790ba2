"""Threads for the models (speech to text, text to speech), below the audio clock.

Model inference is heavy and may wait; a 20 ms audio frame may not.
The models' threads run at a lower scheduling priority (nice +10) than the event loop
that paces every call's frames, so that on a busy machine the frames go out on time
and the models take what CPU is left.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Final

NICENESS: Final = 10


def lower_priority() -> None:
    """This thread (or process, from its main thread) at nice +10."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not permitted
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def model_threads(name: str, workers: int) -> ThreadPoolExecutor:
    """A pool whose threads run below the event loop's priority."""
    return ThreadPoolExecutor(
        max_workers=workers, thread_name_prefix=f"openrevox-{name}", initializer=lower_priority
    )
