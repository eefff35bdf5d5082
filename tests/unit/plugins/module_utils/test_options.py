# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import (
    ENV_VARS, EmOptionAdapter, connection_argument_spec, env_fallback_nonempty, normalise_url, plugin_variables,
    validate_connection,
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
    with pytest.raises(EmError, match='^timeout must be a number of seconds greater than 0'):
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


# -- empty values: unset when they come from the environment, a variable or ansible.cfg; an error when given ----------

def test_empty_env_var_is_no_fallback(monkeypatch):
    from ansible.module_utils.basic import AnsibleFallbackNotFound
    monkeypatch.setenv('VEEAM_EM_CA_PATH', '')
    monkeypatch.setenv('VEEAM_EM_URL', 'https://em')
    monkeypatch.setenv('VEEAM_EM_TIMEOUT', '   ')
    with pytest.raises(AnsibleFallbackNotFound):
        env_fallback_nonempty('VEEAM_EM_CA_PATH')
    with pytest.raises(AnsibleFallbackNotFound):
        env_fallback_nonempty('VEEAM_EM_TIMEOUT')
    assert env_fallback_nonempty('VEEAM_EM_CA_PATH', 'VEEAM_EM_URL') == 'https://em'


def test_every_fallback_skips_empty_values():
    for option, definition in connection_argument_spec().items():
        if 'fallback' in definition:
            assert definition['fallback'][0] is env_fallback_nonempty, option


@pytest.mark.parametrize('option, value, message', [
    ('url', '', 'url is empty; give the EM address such as https://em.example.com:9398, or leave the option out and set the '
                'VEEAM_EM_URL environment variable.'),
    ('username', ' ', 'username is empty; give the EM user name, or leave the option out and the VEEAM_EM_USERNAME '
                      'environment variable unset.'),
    ('password', '', 'password is empty; give the password of username, or leave the option out and the VEEAM_EM_PASSWORD '
                     'environment variable unset.'),
    ('session_token', '', 'session_token is empty; give the token a logon task returned, or leave the option out and the '
                          'VEEAM_EM_SESSION_TOKEN environment variable unset.'),
    ('ca_path', '', 'ca_path is empty; give the path of a PEM file (or folder) of CA certificates, or leave the option out '
                    'and the VEEAM_EM_CA_PATH environment variable unset.'),
])
def test_an_empty_value_given_on_purpose_is_an_error(option, value, message):
    options = {'url': 'https://em', 'username': 'u', 'password': 'p'}
    options[option] = value
    with pytest.raises(EmError) as info:
        validate_connection(options)
    assert str(info.value) == message


TIMEOUT_EXPECTED = 'timeout must be a number of seconds greater than 0 and at most 3600, not '


@pytest.mark.parametrize('value, shown', [
    (0, '0'), (-1, '-1'), ('abc', "'abc'"), (float('nan'), 'nan'), (float('inf'), 'inf'), (3601, '3601'), (True, 'True'),
    ('', "''"), ([1], '[1]'),
])
def test_bad_timeouts_get_our_sentence(value, shown):
    with pytest.raises(EmError) as info:
        validate_connection({'url': 'em', 'session_token': 't', 'timeout': value})
    assert str(info.value) == TIMEOUT_EXPECTED + shown + '.'


@pytest.mark.parametrize('value, expected', [('2.5', 2.5), (1, 1.0), (3600, 3600.0), (0.05, 0.05), (None, 30.0)])
def test_good_timeouts(value, expected):
    assert validate_connection({'url': 'em', 'session_token': 't', 'timeout': value})['timeout'] == expected


@pytest.mark.parametrize('value', [-1, 11, 1.5, 'x', True, '', [2]])
def test_bad_retries_get_our_sentence(value):
    with pytest.raises(EmError, match=r'^retries must be a whole number from 0 to 10, not .+\.$'):
        validate_connection({'url': 'em', 'session_token': 't', 'retries': value})


@pytest.mark.parametrize('value, expected', [('3', 3), (2.0, 2), (0, 0), (10, 10), (None, 3)])
def test_good_retries(value, expected):
    assert validate_connection({'url': 'em', 'session_token': 't', 'retries': value})['retries'] == expected


@pytest.mark.parametrize('value, expected', [('True', True), ('False', False), ('yes', True), ('0', False), (None, True), (False, False)])
def test_validate_certs_strings_from_awx(value, expected):
    assert validate_connection({'url': 'em', 'session_token': 't', 'validate_certs': value})['validate_certs'] is expected


def test_validate_certs_nonsense_is_refused():
    with pytest.raises(EmError, match=r"^validate_certs must be true or false \(yes/no, on/off and 1/0 work too\), not 'maybe'\.$"):
        validate_connection({'url': 'em', 'session_token': 't', 'validate_certs': 'maybe'})


# -- ca_path, checked before any connection ---------------------------------------------------------------------------

def ca(path):
    return validate_connection({'url': 'em', 'session_token': 't', 'ca_path': str(path)})['ca_path']


def test_a_fifo_ca_path_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / 'ca.fifo'
    os.mkfifo(str(fifo))
    with pytest.raises(EmError, match=r'^ca_path .*ca\.fifo is a FIFO, not a regular file or a folder; give the path of a PEM'):
        ca(fifo)


def test_a_device_ca_path_is_refused():
    with pytest.raises(EmError, match=r'^ca_path /dev/null is a device, not a regular file or a folder'):
        ca('/dev/null')


@pytest.mark.skipif(not os.path.exists('/proc/self/mem'), reason='needs /proc')
def test_an_unreadable_ca_path_says_why():
    with pytest.raises(EmError, match=r'^ca_path /proc/self/mem cannot be read \(.+\); give the path of a PEM file'):
        ca('/proc/self/mem')


def test_a_ca_path_without_a_certificate_is_refused(tmp_path):
    bundle = tmp_path / 'ca.pem'
    bundle.write_text(u'not a certificate\n')
    with pytest.raises(EmError, match=r'holds no PEM certificate \(no -----BEGIN CERTIFICATE----- line\)'):
        ca(bundle)


def test_a_ca_folder_is_accepted(tmp_path):
    assert ca(tmp_path) == str(tmp_path)


def test_a_ca_path_under_home_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    (tmp_path / 'ca.pem').write_text(u'-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n')
    assert ca('~/ca.pem') == str(tmp_path / 'ca.pem')


# -- plugins: where a value came from decides whether an empty one is unset ----------------------------------------

class OriginPlugin(object):
    """A plugin that knows where each option value came from, as Ansible's plugins do from ansible-core 2.17 on."""

    def __init__(self, values):
        self._values = values

    def get_option(self, name):
        return self.get_option_and_origin(name)[0]

    def get_option_and_origin(self, name, hostvars=None):
        if name not in self._values:
            raise KeyError(name)
        return self._values[name]


class RereadingPlugin(object):
    """A plugin as ansible-core 2.16 makes it: get_option_and_origin() reads the configuration again, without the
    direct keywords, from the variables it is given."""

    def __init__(self, options, configuration):
        self._options = options
        self._configuration = configuration

    def get_option(self, name):
        return self._options[name]

    def get_option_and_origin(self, name, hostvars=None):
        return self._configuration(name, hostvars or {})


def test_plugin_values_from_empty_env_vars_are_unset(monkeypatch):
    monkeypatch.setenv('VEEAM_EM_CA_PATH', '')
    monkeypatch.setenv('VEEAM_EM_VALIDATE_CERTS', '')
    adapter = EmOptionAdapter.from_plugin(OriginPlugin({
        'ca_path': ('/current/folder', 'env: VEEAM_EM_CA_PATH'),
        'validate_certs': (False, 'env: VEEAM_EM_VALIDATE_CERTS'),
        'url': ('https://em', 'Direct'),
    }))
    assert adapter.get_option('ca_path') is None and adapter.get_option('validate_certs') is None
    assert adapter.get_option('url') == 'https://em'


def test_plugin_values_given_directly_stay_even_when_empty():
    adapter = EmOptionAdapter.from_plugin(OriginPlugin({'username': ('', 'Direct')}))
    assert adapter.get_option('username') == ''


def test_plugin_values_from_empty_variables_are_unset():
    adapter = EmOptionAdapter.from_plugin(OriginPlugin({'username': ('', 'var: veeam_em_username'), 'url': ('em', 'var: veeam_em_url')}))
    assert adapter.get_option('username') is None and adapter.get_option('url') == 'em'


def test_plugin_values_from_an_empty_ini_entry_are_unset(tmp_path):
    cfg = tmp_path / 'ansible.cfg'
    cfg.write_text(u'[vbem_enterprise_manager]\nca_path =\nurl = https://em\n')
    adapter = EmOptionAdapter.from_plugin(OriginPlugin({'ca_path': (str(tmp_path), str(cfg)), 'url': ('https://em', str(cfg))}))
    assert adapter.get_option('ca_path') is None and adapter.get_option('url') == 'https://em'


def _env_then_default(name, variables):
    """ansible-core 2.16's re-read: variables, then the environment, then the default."""
    var = 'veeam_em_' + name
    if variables.get(var) is not None:
        return variables[var], 'var: ' + var
    if ENV_VARS.get(name) in os.environ:
        return os.environ[ENV_VARS[name]], 'env: ' + ENV_VARS[name]
    return None, 'default'


def test_plugin_values_given_directly_win_when_origins_are_not_kept(monkeypatch):
    monkeypatch.delenv('VEEAM_EM_URL', raising=False)
    monkeypatch.setenv('VEEAM_EM_SESSION_TOKEN', '')
    direct = {'url': 'https://em', 'session_token': 'token'}
    adapter = EmOptionAdapter.from_plugin(RereadingPlugin(dict(direct), _env_then_default), direct=direct, variables={})
    assert adapter.get_option('url') == 'https://em' and adapter.get_option('session_token') == 'token'


def test_plugin_values_given_directly_stay_empty_when_origins_are_not_kept(monkeypatch):
    # The re-read would blame the empty environment variable and so read the explicit '' as unset.
    monkeypatch.setenv('VEEAM_EM_USERNAME', '')
    direct = {'username': ''}
    adapter = EmOptionAdapter.from_plugin(RereadingPlugin(dict(direct), _env_then_default), direct=direct, variables={})
    assert adapter.get_option('username') == ''


def test_plugin_values_from_empty_sources_are_unset_when_origins_are_not_kept(monkeypatch):
    monkeypatch.setenv('VEEAM_EM_CA_PATH', '')
    monkeypatch.setenv('VEEAM_EM_URL', 'https://env-em')
    options = {'ca_path': '/current/folder', 'username': '', 'url': 'https://env-em', 'password': None}
    adapter = EmOptionAdapter.from_plugin(RereadingPlugin(options, _env_then_default), direct={'password': None},
                                          variables={'veeam_em_username': ''})
    assert adapter.get_option('ca_path') is None and adapter.get_option('username') is None
    assert adapter.get_option('url') == 'https://env-em' and adapter.get_option('password') is None


def test_plugin_variables_hide_empty_connection_variables_only():
    variables = {'veeam_em_ca_path': '', 'veeam_em_timeout': ' ', 'veeam_em_url': 'https://em', 'other': ''}
    view = plugin_variables(variables)
    assert 'veeam_em_ca_path' not in view and view.get('veeam_em_timeout') is None
    assert view['veeam_em_url'] == 'https://em' and view['other'] == ''
    assert sorted(view) == ['other', 'veeam_em_url'] and len(view) == 2 and bool(view)
    assert plugin_variables({}) == {} and plugin_variables(None) is None
