# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure parts of the client: error text, backoff, cookie policy. HTTP is covered by the emulator tests."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import client as client_module
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError, scrub
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter

pytestmark = pytest.mark.skipif(not client_module.HAS_REQUESTS, reason='requests is not installed')

PASSWORD = 'Pa55-w0rd;"secret"'
TOKEN = 'NDRjZmJkYmUtNWE5NS00MTU2LTg4NjctOTFmMDY5YjdjMmNj'


class StubResponse(object):
    """Just the attributes EmClient reads from a response, to test message building."""

    def __init__(self, status, content, reason='Reason'):
        self.status_code = status
        self.content = content
        self.reason = reason


def make_client(**kwargs):
    options = dict(url='https://em.example.com', username='admin', password=PASSWORD)
    options.update(kwargs)
    return client_module.get_client(EmOptionAdapter.from_dict(options))


def test_error_names_url_status_and_em_message_in_one_sentence():
    client = make_client()
    body = b'{"FirstChanceExceptionMessage":null,"Message":"Query type NoSuchType is unknown.","StackTrace":null,"StatusCode":400}'
    error = client._error('GET', 'https://em.example.com:9398/api/query?type=NoSuchType', StubResponse(400, body))
    text = str(error)
    assert text == 'GET https://em.example.com:9398/api/query?type=NoSuchType failed with HTTP 400: Query type NoSuchType is unknown.'
    assert error.status == 400 and error.em_message == 'Query type NoSuchType is unknown.'
    assert '\n' not in text


def test_error_reads_xml_envelope():
    client = make_client()
    body = b'<Error Message="Access denied." StatusCode="403" xmlns="http://www.veeam.com/ent/v1.0"/>'
    assert 'HTTP 403: Access denied.' in str(client._error('GET', 'https://em/api/x', StubResponse(403, body)))


def test_error_never_contains_the_password_even_when_em_echoes_it():
    client = make_client()
    body = ('{"Message": "Logon failed for admin with password ' + PASSWORD.replace('"', '\\"') + '"}').encode()
    text = str(client._error('POST', 'https://em.example.com:9398/api/sessionMngr/?v=latest', StubResponse(401, body)))
    assert PASSWORD not in text and 'HTTP 401' in text and 'credentials were rejected' in text


def test_error_never_contains_the_session_token():
    client = make_client(session_token=TOKEN)
    body = ('{"Message": "Token ' + TOKEN + ' expired"}').encode()
    text = str(client._error('GET', 'https://em/api/query', StubResponse(401, body)))
    assert TOKEN not in text and 'session token is invalid or expired' in text


def test_error_without_response_names_the_reason():
    client = make_client()
    assert str(client._error('GET', 'https://em/api/query', reason='ConnectTimeout after 4 attempt(s)')) == \
        'GET https://em/api/query failed: ConnectTimeout after 4 attempt(s).'


def test_scrub_replaces_every_secret():
    assert scrub('a hunter2 b hunter2', ['hunter2', None, '']) == 'a ******** b ********'


def test_backoff_grows_exponentially_and_is_capped():
    delays = [client_module.backoff_delay(n, base=0.5, maximum=10, rand=lambda: 0) for n in range(8)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0] and max(delays) == 10


def test_backoff_adds_bounded_jitter():
    assert client_module.backoff_delay(1, base=0.5, maximum=10, rand=lambda: 0.999) < 1.5


def test_cookie_policy_blocks_everything():
    policy = client_module.BlockAllCookies()
    assert not policy.set_ok(None, None) and not policy.return_ok(None, None)


def test_client_session_never_stores_cookies():
    client = make_client()
    assert isinstance(client._http.cookies.get_policy(), client_module.BlockAllCookies)


def test_verify_prefers_ca_path_then_validate_certs(tmp_path):
    bundle = tmp_path / 'ca.pem'
    bundle.write_text(u'-----BEGIN CERTIFICATE-----\n')
    assert make_client(ca_path=str(bundle)).verify == str(bundle)
    assert make_client(validate_certs=False).verify is False
    assert make_client().verify is True


def test_caller_token_is_not_owned():
    assert make_client(session_token=TOKEN, username=None, password=None).owns_session is False
    assert make_client().owns_session is True


def test_token_decodes_to_session_id_on_v10_plus():
    assert client_module._token_to_session_id(TOKEN) == '44cfbdbe-5a95-4156-8867-91f069b7c2cc'
    assert client_module._token_to_session_id('O9Msj3rq7EGUhtSMBQx+mw==') is None


def test_get_client_rejects_bad_options_before_any_request():
    with pytest.raises(EmError, match='Either username and password or session_token'):
        client_module.get_client(EmOptionAdapter.from_dict({'url': 'https://em'}))


UNTRUSTED = ("HTTPSConnectionPool(host='127.0.0.1', port=41545): Max retries exceeded with url: /api/sessionMngr/?v=latest "
             "(Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
             "unable to get local issuer certificate (_ssl.c:1006)')))")
WRONG_PROTOCOL = ("HTTPSConnectionPool(host='127.0.0.1', port=9399): Max retries exceeded with url: /api/ "
                  "(Caused by SSLError(SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)')))")


def test_untrusted_certificate_names_openssl_reason_and_the_fix():
    message = client_module._tls_failure(Exception(UNTRUSTED))
    assert message.startswith('TLS certificate verification failed (certificate verify failed: unable to get local issuer certificate)')
    assert 'ca_path' in message and 'validate_certs' in message


def test_tls_failure_that_is_not_about_certificates_does_not_suggest_ca_path():
    message = client_module._tls_failure(Exception(WRONG_PROTOCOL))
    assert message == 'TLS handshake failed (wrong version number)'


def test_tls_failure_without_openssl_text_keeps_first_line():
    assert client_module._tls_failure(Exception('EOF occurred\nmore')) == 'TLS handshake failed (EOF occurred)'


REFUSED = ("HTTPSConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /api/sessionMngr/?v=latest "
           "(Caused by NewConnectionError(\"HTTPSConnection(host='127.0.0.1', port=1): Failed to establish a new connection: "
           "[Errno 111] Connection refused\"))")
UNRESOLVED = ("HTTPSConnectionPool(host='em.invalid', port=9398): Max retries exceeded with url: /api/ (Caused by "
              "NameResolutionError(\"<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to resolve 'em.invalid' "
              "([Errno -2] Name or service not known)\"))")


def test_connection_failure_is_reduced_to_the_operating_system_reason():
    assert client_module._short(Exception(REFUSED)) == 'Connection refused'
    assert client_module._short(Exception(UNRESOLVED)) == 'Name or service not known'
