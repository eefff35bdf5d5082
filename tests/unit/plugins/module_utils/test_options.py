# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import (
    ENV_VARS, EmOptionAdapter, connection_argument_spec, normalise_url, validate_connection,
)


@pytest.mark.parametrize('url', [
    'https://em.example.com:9398', 'https://em.example.com:9398/', 'https://em.example.com:9398/api',
    'https://em.example.com:9398/api/', 'https://em.example.com', 'em.example.com', 'HTTPS://em.example.com/api/',
])
def test_url_variants_normalise_to_the_api_base(url):
    assert normalise_url(url) == 'https://em.example.com:9398/api'


def test_url_keeps_an_explicit_port_and_http():
    assert normalise_url('http://em:8080') == 'http://em:8080/api'


def test_url_keeps_a_reverse_proxy_prefix():
    assert normalise_url('https://proxy.example.com/veeam/') == 'https://proxy.example.com:9398/veeam/api'


def test_ipv6_url_keeps_brackets():
    assert normalise_url('https://[::1]/api') == 'https://[::1]:9398/api'


@pytest.mark.parametrize('url', ['ftp://em.example.com', 'file:///etc/passwd'])
def test_non_http_scheme_is_rejected(url):
    with pytest.raises(EmError, match='must start with https://'):
        normalise_url(url)


def test_url_with_credentials_is_rejected_without_echoing_them():
    with pytest.raises(EmError) as info:
        normalise_url('https://admin:s3cret@em.example.com')
    assert 's3cret' not in str(info.value) and 'username and password options' in str(info.value)


def test_missing_url_names_the_env_var():
    with pytest.raises(EmError, match='VEEAM_EM_URL'):
        normalise_url(None)


def test_bad_port_is_rejected():
    with pytest.raises(EmError, match='invalid port'):
        normalise_url('https://em:99999999')


def test_neither_password_nor_token_is_one_clear_sentence():
    with pytest.raises(EmError, match='Either username and password or session_token is required'):
        validate_connection({'url': 'https://em'})


def test_token_alone_is_enough():
    options = validate_connection({'url': 'https://em', 'session_token': 'tok'})
    assert options['base_url'] == 'https://em:9398/api' and options['validate_certs'] is True
    assert options['timeout'] == 30.0 and options['retries'] == 3 and options['api_version'] == 'latest'


def test_validate_certs_strings_are_booleans():
    assert validate_connection({'url': 'em', 'session_token': 't', 'validate_certs': 'no'})['validate_certs'] is False


def test_bad_api_version_is_rejected():
    with pytest.raises(EmError, match='api_version'):
        validate_connection({'url': 'em', 'session_token': 't', 'api_version': 'v9'})


def test_non_positive_timeout_is_rejected():
    with pytest.raises(EmError, match='timeout'):
        validate_connection({'url': 'em', 'session_token': 't', 'timeout': 0})


def test_missing_ca_path_is_named_before_any_request(tmp_path):
    missing = str(tmp_path / 'no-such-ca.pem')
    with pytest.raises(EmError, match='ca_path .*no-such-ca.pem does not exist'):
        validate_connection({'url': 'em', 'session_token': 't', 'ca_path': missing})


def test_existing_ca_path_is_kept(tmp_path):
    bundle = tmp_path / 'ca.pem'
    bundle.write_text(u'-----BEGIN CERTIFICATE-----\n')
    assert validate_connection({'url': 'em', 'session_token': 't', 'ca_path': str(bundle)})['ca_path'] == str(bundle)


class FakeModule(object):
    def __init__(self, params):
        self.params = params


class FakePlugin(object):
    def __init__(self, options):
        self._options = options

    def get_option(self, name):
        return self._options[name]


def test_adapter_reads_module_params_and_plugin_options_the_same_way():
    values = {'url': 'https://em', 'username': 'u', 'password': 'p', 'validate_certs': False, 'timeout': 5,
              'retries': 1, 'api_version': 'v1_7', 'session_token': None, 'ca_path': None}
    from_module = EmOptionAdapter.from_module(FakeModule(dict(values))).connection_options()
    from_plugin = EmOptionAdapter.from_plugin(FakePlugin(dict(values))).connection_options()
    assert from_module == from_plugin
    assert from_module['base_url'] == 'https://em:9398/api' and from_module['validate_certs'] is False


def test_plugin_adapter_treats_unknown_options_as_unset():
    adapter = EmOptionAdapter.from_plugin(FakePlugin({}))
    assert adapter.get_option('nope') is None


def test_every_env_var_is_wired_into_the_argument_spec():
    spec = connection_argument_spec()
    for option, env in ENV_VARS.items():
        assert spec[option]['fallback'][1] == [env]


def test_secrets_are_no_log():
    spec = connection_argument_spec()
    assert spec['password']['no_log'] is True and spec['session_token']['no_log'] is True
