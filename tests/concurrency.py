"""Running the same work in several threads released at the same moment, for the tests that show
a job or a claim is safe when runs overlap."""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

T = TypeVar("T")


def run_at_once(work: Callable[[], T], times: int = 4) -> list[T]:
    """What each of `times` threads returned; raises the first error any thread met (a thread's
    exception would otherwise vanish)."""
    barrier = threading.Barrier(times)
    results: list[T] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except Exception as error:  # re-raised below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
