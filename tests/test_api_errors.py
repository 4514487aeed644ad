"""The library API refuses bad arguments with rbactool's own errors (exit codes), never a bare
ValueError or an AttributeError from deep inside."""

import pytest

import rbactool
from rbactool.config import ConfigError
from rbactool.errors import InputError


@pytest.fixture(scope="module")
def reader():
    return rbactool.resolve_roles("Reader")[0]


@pytest.mark.parametrize("call", [
    lambda: rbactool.validate_roles([], fail_on="bogus"),
    lambda: rbactool.load_config(no_config=True, fail_on="bogus"),
])
def test_an_unknown_fail_on_is_a_config_error_spelled_as_the_cli_spells_it(call):
    with pytest.raises(ConfigError) as e:
        call()
    assert e.value.exit_code == 3
    assert "security-warning" in str(e.value) and "SECURITY_WARNING" not in str(e.value)


def test_an_unknown_shape_is_an_input_error(reader):
    with pytest.raises(InputError, match="az-list"):
        rbactool.dumps_role(reader, "xml")


@pytest.mark.parametrize("call", [
    lambda r: rbactool.diff_roles("a", "b"),
    lambda r: rbactool.diff_roles(r, "b"),
    lambda r: rbactool.effective_operations("Reader"),
    lambda r: rbactool.validate_roles("Reader"),
    lambda r: rbactool.validate_roles([r, "Reader"]),
    lambda r: rbactool.dumps_roles([r, 3]),
    lambda r: rbactool.diff_role_sets([r], ["Reader"]),
])
def test_a_name_where_a_role_is_expected_is_an_input_error_with_a_hint(call, reader):
    with pytest.raises(InputError) as e:
        call(reader)
    assert e.value.exit_code == 3 and "RoleDefinition" in str(e.value)


def test_the_checks_still_accept_real_roles(reader):
    assert rbactool.diff_roles(reader, reader) is not None
    assert not rbactool.validate_roles([reader], fail_on="error").failed()
