"""EM /api resources: entry point, logon sessions, query service, session entities.

Each handler takes a :class:`Request` and returns a :class:`Response`; the HTTP
plumbing (TLS, faults, auth, counters) lives in :mod:`server`.
"""

from __future__ import annotations

import math

from . import render
from .filterexpr import FilterError
from .points import LAZY_KINDS
from .query import QUERY_TYPES, canonical_type, compile_filter, sort_key

SUPPORTED_VERSIONS = ('v1_5', 'v1_6', 'v1_7')
_SAFE = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!*()')
# Collection path segment (lower case) -> resource kind.
COLLECTIONS = {info['path'].lower(): kind for kind, info in render.KINDS.items()}
# Collections that list part of a kind (docs: /agents/backupSessions, /agents/restorePoints).
VIEWS = {
    'agents/backupsessions': ('BackupJobSession', lambda row: row['job_type'] in ('AgentBackup', 'AgentManagement')),
    'agents/restorepoints': ('RestorePoint', lambda row: row['backup']['platform'].startswith('Agent')),
}
COLLECTIONS.update((path, kind) for path, (kind, _keep) in VIEWS.items())
# (parent collection, child segment) -> (child kind, row key that points at the parent).
SUB_COLLECTIONS = {
    ('backupsessions', 'tasksessions'): ('BackupTaskSession', 'job_session'),
    ('replicasessions', 'replicatasksessions'): ('ReplicaTaskSession', 'job_session'),
    ('cdpreplicasessions', 'cdpreplicatasksessions'): ('CdpReplicaTaskSession', 'job_session'),
    ('cdppolicies', 'cdpreplicasessions'): ('CdpReplicaSession', 'policy'),
    ('backupservers', 'jobs'): ('Job', 'server'),
    ('jobs', 'backupsessions'): ('BackupJobSession', 'job'),
    ('backupsessions', 'agentmanagementsessions'): ('BackupJobSession', 'parent_session'),
    ('agents/jobs', 'backupsessions'): ('BackupJobSession', 'job'),
    ('backups', 'restorepoints'): ('RestorePoint', 'backup'),
    ('restorepoints', 'vmrestorepoints'): ('VmRestorePoint', 'restore_point'),
    ('restorepoints', 'backupfiles'): ('BackupFile', 'restore_point'),
    ('backupfiles', 'vmrestorepoints'): ('VmRestorePoint', 'backup_file'),
    ('backupfiles', 'restorepoints'): ('RestorePoint', 'backup_file'),
}
_LOGON_DOWN_LINKS = (
    ('backupServers', 'BackupServerReferenceList'), ('jobs', 'JobReferenceList'),
    ('backupSessions', 'BackupJobSessionReferenceList'), ('restoreSessions', 'RestoreSessionReferenceList'),
    ('replicaSessions', 'ReplicaJobSessionReferenceList'), ('backupTaskSessions', 'BackupTaskSessionReferenceList'),
    ('replicaTaskSessions', 'ReplicaTaskSessionReferenceList'), ('cdpReplicaSessions', 'CdpReplicaSessionReferenceList'),
    ('cdpReplicaTaskSessions', 'CdpReplicaTaskSessionReferenceList'), ('querySvc', 'QueryService'),
    ('backupSessions?format=Entity', 'BackupJobSessionList'), ('backupTaskSessions?format=Entity', 'BackupTaskSessionList'),
    ('replicaSessions?format=Entity', 'ReplicaJobSessionList'), ('replicaTaskSessions?format=Entity', 'ReplicaTaskSessionList'),
)


class ApiError(Exception):
    """An EM error to send in the Error envelope."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Request:
    """What a resource handler needs from the HTTP request."""

    def __init__(self, method, segments, params, raw_params, json, ctx, session=None):
        self.method = method
        self.segments = segments
        self.params = params
        self.raw_params = raw_params
        self.json = json
        self.ctx = ctx
        self.session = session
        self.body = b''
        self.content_type = None


class Response:
    """A representation to serialise: XML text or a JSON-able value, plus status and headers."""

    def __init__(self, status=200, xml=None, data=None, headers=None):
        self.status = status
        self.xml = xml
        self.data = data
        self.headers = headers or {}


def net_url_encode(value):
    """.NET ``HttpUtility.UrlEncode``: what EM uses when it echoes parameters in paging links."""
    out = []
    for byte in value.encode('utf-8'):
        char = chr(byte)
        if char in _SAFE:
            out.append(char)
        elif char == ' ':
            out.append('+')
        else:
            out.append('%%%02x' % byte)
    return ''.join(out)


def _format_is_entity(req, allowed=('entity', 'entities')):
    return req.params.get('format', '').strip().lower() in allowed


# -- entry point and logon sessions ---------------------------------------------------

def entry_point(req):
    """``GET /api/``: links and supported versions, no authentication."""
    ctx = req.ctx
    links = [render.Link('Down', ctx.url('logonSessions'), 'LogonSessionList'),
             render.Link('Create', ctx.url('sessionMngr/?v=latest'), 'LogonSession')]
    versions = [(name, [render.Link('Create', ctx.url('sessionMngr/?v=' + name), 'LogonSession')]) for name in SUPPORTED_VERSIONS]
    if not req.json:
        body = [render.xml_root_open('EnterpriseManager'), render.xml_links(links, '  '), '  <SupportedVersions>\n']
        for name, vlinks in versions:
            body.append('    <SupportedVersion Name="%s">\n%s    </SupportedVersion>\n' % (name, render.xml_links(vlinks, '      ')))
        body.append('  </SupportedVersions>\n</EnterpriseManager>\n')
        return Response(xml=render.xml_document(''.join(body)))
    return Response(data={
        'SupportedVersions': {'SupportedVersions': [{'Name': name, 'Links': render.links_json(vlinks)} for name, vlinks in versions]},
        'Links': render.links_json(links)})


def _logon_node(session, ctx):
    href = ctx.url('logonSessions/' + session.session_id)
    links = [render.Link('Up', ctx.url(''), 'EnterpriseManager')]
    links += [render.Link('Down', ctx.url(path), type_) for path, type_ in _LOGON_DOWN_LINKS]
    links.append(render.Link('Delete', href))
    elems = [('UserName', session.username, render.ALWAYS), ('SessionId', session.session_id, render.ALWAYS)]
    return render.Node('LogonSession', [('Type', 'LogonSession'), ('Href', href)], links, elems,
                       ['UserName', 'SessionId', 'Links', 'Href', 'Type'])


def logon_response(session, ctx, json):
    """The 201 answer to ``POST /api/sessionMngr/``."""
    headers = {'X-RestSvcSessionId': session.token, 'Set-Cookie': 'X-RestSvcSessionId=%s; Path=/api;' % session.token}
    node = _logon_node(session, ctx)
    if json:
        return Response(201, data=render.node_json(node), headers=headers)
    return Response(201, xml=render.xml_document(render.node_xml(node, root=True)), headers=headers)


def check_version(params):
    """Validate ``?v=``; a missing value means latest (clients such as Centreon omit it)."""
    version = params.get('v', 'latest').strip()
    if version.lower() != 'latest' and version.lower() not in SUPPORTED_VERSIONS:
        raise ApiError(400, "Unsupported REST API version '%s'. Supported versions: latest, %s." % (
            version, ', '.join(SUPPORTED_VERSIONS)))


def logon_sessions(req):
    """``GET /api/logonSessions``: the caller's own session."""
    node = _logon_node(req.session, req.ctx)
    if req.json:
        return Response(data={'LogonSessions': [render.node_json(node)]})
    return Response(xml=render.xml_list('LogonSessions', [render.node_xml(node, '  ')]))


def logon_session(req, store):
    """``GET|DELETE /api/logonSessions/{SessionId}``."""
    session_id = req.segments[1]
    if req.method == 'DELETE':
        if not store.logoff(req.session, session_id):
            raise ApiError(404, "Logon session '%s' was not found." % session_id)
        return Response(204)
    session = store.find(req.session, session_id)
    if session is None:
        raise ApiError(404, "Logon session '%s' was not found." % session_id)
    node = _logon_node(session, req.ctx)
    if req.json:
        return Response(data=render.node_json(node))
    return Response(xml=render.xml_document(render.node_xml(node, root=True)))


# -- query service --------------------------------------------------------------------

def _positive_int(params, name, default):
    raw = params.get(name.lower())
    if raw is None or raw.strip() == '':
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ApiError(400, "Invalid value '%s' for parameter '%s': expected a positive integer." % (raw, name))
    return value


def query(req, dataset, default_page_size, empty_pages_count):
    """``GET /api/query``: filter, sort and page one query type."""
    params = req.params
    raw_type = params.get('type')
    if not raw_type:
        raise ApiError(400, "Query type is not specified. Use the 'type' parameter, e.g. type=BackupJobSession.")
    qtype = canonical_type(raw_type)
    if qtype is None:
        raise ApiError(400, "Unknown query type '%s'. Supported query types: %s." % (raw_type, ', '.join(QUERY_TYPES)))
    fmt = params.get('format', 'References').strip().lower()
    if fmt not in ('references', 'reference', 'entities', 'entity'):
        raise ApiError(400, "Invalid value '%s' for parameter 'format'. Possible values: References, Entities." % params['format'])
    ensure_rows(dataset, qtype)
    rows = dataset.rows[qtype]
    try:
        text = params.get('filter', '')
        if text.strip():
            predicate = compile_filter(text, qtype)
            rows = [row for row in rows if predicate(row)]
        if params.get('sortasc', '').strip():
            rows = sorted(rows, key=sort_key(qtype, params['sortasc'].strip()))
        elif params.get('sortdesc', '').strip():
            rows = sorted(rows, key=sort_key(qtype, params['sortdesc'].strip()), reverse=True)
    except FilterError as exc:
        raise ApiError(400, str(exc)) from None
    page_size = _positive_int(params, 'pageSize', default_page_size)
    page = _positive_int(params, 'page', 1)
    pages_count = int(math.ceil(len(rows) / float(page_size))) if rows else empty_pages_count
    items = rows[(page - 1) * page_size:page * page_size]
    paging = {'page': page, 'page_size': page_size, 'pages_count': pages_count,
              'links': _paging_links(req, page, page_size, pages_count)}
    entities = fmt.startswith('entit')
    kind_info = render.KINDS[qtype]
    ctx = req.ctx
    build = render.entity if entities else render.reference
    nodes = [build(qtype, row, ctx) for row in items]
    if req.json:
        result = {'Refs': None, 'Entities': None, 'Resources': None, 'Links': None, 'PagingInfo': render.paging_json(paging)}
        if entities:
            slots = dict.fromkeys(render.ENTITY_SLOTS)
            slots[kind_info['slot']] = {kind_info['slot']: [render.node_json(node) for node in nodes]}
            result['Entities'] = slots
        else:
            result['Refs'] = {'Refs': [render.node_json(node) for node in nodes]}
        return Response(data=result)
    body = [render.xml_root_open('QueryResult')]
    if entities:
        inner = ''.join(render.node_xml(node, '      ', kind_info['item']) for node in nodes)
        slot = kind_info['slot']
        body.append('  <Entities>\n    <%s>\n%s    </%s>\n  </Entities>\n' % (slot, inner, slot) if nodes
                    else '  <Entities>\n    <%s />\n  </Entities>\n' % slot)
    else:
        inner = ''.join(render.node_xml(node, '    ') for node in nodes)
        body.append('  <Refs>\n%s  </Refs>\n' % inner if nodes else '  <Refs />\n')
    body.append(render.paging_xml(paging))
    body.append('</QueryResult>\n')
    return Response(xml=render.xml_document(''.join(body)))


def _paging_links(req, page, page_size, pages_count):
    kept = ['%s=%s' % (net_url_encode(name), net_url_encode(value)) for name, value in req.raw_params
            if name.lower() not in ('pagesize', 'page')]
    prefix = req.ctx.url('query') + '?' + ''.join(part + '&' for part in kept)

    def href(number):
        return '%spageSize=%d&page=%d' % (prefix, page_size, number)
    last = max(pages_count, 1)
    links = [('First', href(1))]
    if page > 1:
        links.append(('Previous', href(min(page - 1, last))))
    if page < pages_count:
        links.append(('Next', href(page + 1)))
    links.append(('Last', href(last)))
    return links


def query_service(req):
    """``GET /api/querySvc``: one link per supported query type."""
    links = [render.Link('Down', req.ctx.url('query?type=' + qtype), 'QueryResult', qtype) for qtype in QUERY_TYPES]
    node = render.Node('QueryService', [('Type', 'QueryService'), ('Href', req.ctx.url('querySvc'))], links, [],
                       ['Links', 'Href', 'Type'])
    if req.json:
        return Response(data=render.node_json(node))
    return Response(xml=render.xml_document(render.node_xml(node, root=True)))


# -- session entities and collections -------------------------------------------------

def ensure_rows(dataset, *kinds):
    """Generate the restore points on first use (see points.py); a no-op for every other kind."""
    protection = getattr(dataset, 'protection', None)
    if protection is not None and any(kind in LAZY_KINDS for kind in kinds):
        protection.ensure()


def _find(dataset, kind, raw_id):
    row = dataset.by_id[kind].get(raw_id.lower())
    if row is None:
        raise ApiError(404, "%s with ID '%s' was not found." % (kind, raw_id))
    return row


def _collection(req, kind, rows):
    ctx = req.ctx
    info = render.KINDS[kind]
    if _format_is_entity(req):
        nodes = [render.entity(kind, row, ctx) for row in rows]
        if req.json:
            return Response(data={info['slot']: [render.node_json(node) for node in nodes]})
        return Response(xml=render.xml_list(info['slot'], [render.node_xml(node, '  ', info['item']) for node in nodes]))
    nodes = [render.reference(kind, row, ctx) for row in rows]
    if req.json:
        return Response(data={'Refs': [render.node_json(node) for node in nodes]})
    return Response(xml=render.xml_list('EntityReferences', [render.node_xml(node, '  ') for node in nodes]))


def session_resource(req, dataset, children):
    """``/{collection}``, ``/{collection}/{id}`` and ``/{collection}/{id}/{children}``."""
    segments = req.segments
    if segments[0].lower() == 'agents':
        segments = ['%s/%s' % (segments[0], segments[1])] + segments[2:]
    path = segments[0].lower()
    kind = COLLECTIONS[path]
    ensure_rows(dataset, kind)
    if len(segments) == 1:
        rows = dataset.rows[kind]
        if path in VIEWS:
            rows = [row for row in rows if VIEWS[path][1](row)]
        return _collection(req, kind, rows)
    row = _find(dataset, kind, segments[1])
    if len(segments) == 3:
        pair = (path, segments[2].lower())
        if pair not in SUB_COLLECTIONS:
            raise ApiError(404, "The resource '/api/%s' was not found." % '/'.join(segments))
        child_kind, key = SUB_COLLECTIONS[pair]
        ensure_rows(dataset, child_kind)
        return _collection(req, child_kind, children.children(child_kind, key, row['id']))
    ctx = req.ctx
    if _format_is_entity(req):
        node = render.entity(kind, row, ctx)
        tag = kind
    else:
        node = render.reference(kind, row, ctx)
        tag = 'EntityRef'
    if req.json:
        return Response(data=render.node_json(node))
    return Response(xml=render.xml_document(render.node_xml(node, tag=tag, root=True)))
