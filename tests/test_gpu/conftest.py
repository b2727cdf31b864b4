# the checks shared by the CUDA tests and their CPU counterparts assert inside amp_checks: let pytest
# explain their failures as it does a test's own asserts
import pytest

pytest.register_assert_rewrite('amp_checks')
