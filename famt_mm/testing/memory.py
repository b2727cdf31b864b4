"""The peak resident memory a block of code adds to this process (Linux), for tests of how many
full-size buffers a step holds at once.

Large tensors are allocated with ``mmap`` and returned to the system when freed, so the resident set
follows the live buffers; the peak (``VmHWM``) is reset before the block through ``/proc/self/clear_refs``.
"""

import re
from contextlib import contextmanager

STATUS = '/proc/self/status'
CLEAR_REFS = '/proc/self/clear_refs'


def _status_bytes(field: str) -> int:
    with open(STATUS) as f:
        return int(re.search(rf'{field}:\s+(\d+) kB', f.read()).group(1)) * 1024


def _reset_peak() -> None:
    with open(CLEAR_REFS, 'w') as f:
        f.write('5')  # resets the peak resident set size (VmHWM), Documentation/filesystems/proc.rst


def can_measure_peak() -> bool:
    """Whether this system reports and resets the peak resident set size."""
    try:
        _reset_peak()
        _status_bytes('VmHWM')
    except (OSError, AttributeError):
        return False
    return True


@contextmanager
def peak_growth():
    """Measure the block: yields a dict whose ``'bytes'`` is, afterwards, how far the resident set
    rose above its size at entry at its peak."""
    result = {}
    _reset_peak()
    start = _status_bytes('VmRSS')
    yield result
    result['bytes'] = _status_bytes('VmHWM') - start
