"""The exit status of a command-line tool: unusable input is a one-line message, not a traceback."""

import sys
from typing import Callable, List, Optional, Tuple, Type, Union

ErrorTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]


def run_cli(
    main: Callable[[Optional[List[str]]], object],
    argv: Optional[List[str]],
    error_types: ErrorTypes,
    prog: str,
) -> int:
    """Run ``main(argv)`` and return the exit status.

    Args:
        main (callable): The tool's entry point, taking the argument list.
        argv (list[str], optional): The arguments; None reads ``sys.argv``.
        error_types (type | tuple[type]): The errors that mean unusable input; any other error
            keeps its traceback.
        prog (str): The tool's name, which starts the message.

    Returns:
        int: 0, or 1 after printing ``"{prog}: error: {message}"`` to stderr.
    """
    try:
        main(argv)
    except error_types as error:
        print(f'{prog}: error: {error}', file=sys.stderr)
        return 1
    return 0
