"""famt_mm.utils.cli.run_cli: the tools' exit status and one-line error message."""

import pytest

from famt_mm.utils.cli import run_cli


def _main(argv):
    if argv == ['bad']:
        raise ValueError('--x must be in [0, 1], got 2')
    if argv == ['bug']:
        raise KeyError('other')


def test_input_errors_are_status_1_with_the_tool_named_other_errors_propagate(capsys):
    assert run_cli(_main, [], ValueError, 'tool') == 0
    assert run_cli(_main, ['bad'], ValueError, 'tool') == 1
    assert capsys.readouterr().err == 'tool: error: --x must be in [0, 1], got 2\n'
    with pytest.raises(KeyError):
        run_cli(_main, ['bug'], ValueError, 'tool')
