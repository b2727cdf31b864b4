"""mmengine checkpoints load with torch's weights-only check on, which still refuses other code."""

import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

# torch < 2.4 has no allow-list to extend (famt_mm leaves it alone there, and its torch.load defaults to
# weights_only=False); tests/test_tools/test_environment_setup.py covers that case
pytestmark = pytest.mark.skipif(
    not hasattr(torch.serialization, 'add_safe_globals'),
    reason=f'torch {torch.__version__} has no torch.serialization.add_safe_globals',
)


def test_message_hub_state_round_trips_with_weights_only():
    hub = MessageHub.get_instance('famt_compat_test')
    for value in (1.0, 2.0, 4.5):
        hub.update_scalar('train/loss', value)
    hub.update_info('extra', np.float64(3.5))
    buffer = io.BytesIO()
    torch.save(dict(message_hub=hub.state_dict(), array=np.arange(3)), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(history, HistoryBuffer)
    assert history.mean() == pytest.approx(2.5)
    assert loaded['array'].tolist() == [0, 1, 2]


class _Sneaky:
    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


@pytest.mark.parametrize('owner,name', [(np.ndarray, 'tofile'), (HistoryBuffer, '__init__')])
def test_other_getattr_calls_are_still_refused(owner, name):
    buffer = io.BytesIO()
    torch.save({'x': _Sneaky(owner, name)}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer statistics methods'):
        torch.load(buffer, weights_only=True)


def test_the_allow_list_is_what_add_safe_globals_receives(monkeypatch):
    from famt_mm.checkpoint import allow_mmengine_checkpoints

    received = []
    monkeypatch.setattr(torch.serialization, 'add_safe_globals', received.extend)
    allow_mmengine_checkpoints()
    assert HistoryBuffer in received and np.ndarray in received
    names = [entry[1] for entry in received if isinstance(entry, tuple)]
    assert 'builtins.getattr' in names  # only in its HistoryBuffer-restricted form
