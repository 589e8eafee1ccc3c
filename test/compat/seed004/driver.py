# Drives the seed-004 client for test/compat/seed004-client.test.ts: one JSON command a line on stdin, one JSON answer
# a line on stdout. Standard library and six only, as the client itself.
import base64
import json
import sys
import time
import traceback
import uuid

from six.moves.urllib.error import HTTPError
from six.moves.urllib.parse import parse_qsl, urlencode
from six.moves.urllib.request import Request

from api import API, normalize_url


class WithoutCsrfField(object):
    """An opener that drops the client's csrfmiddlewaretoken field: its POSTs then come without the token."""

    def __init__(self, opener):
        self.opener = opener

    def open(self, url, data=None):
        if data is not None:
            fields = [(k, v) for k, v in parse_qsl(data.decode("utf-8")) if k != "csrfmiddlewaretoken"]
            data = urlencode(fields).encode("utf-8")
        return self.opener.open(url, data)


def jsonable(value):
    if isinstance(value, bytes):
        return {"bytes_base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def upload_update(api, model_id, round_number, sample_size, path):
    """POSTs an update to the REST API with the client's session: its cookies and its CSRF token in the header."""
    boundary = uuid.uuid4().hex
    with open(path, "rb") as file:
        model = file.read()
    parts = []
    for name, value in (("round", str(round_number)), ("sample_size", str(sample_size))):
        parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, name, value)).encode())
    parts.append(('--%s\r\nContent-Disposition: form-data; name="model_file"; filename="update.onnx"\r\n'
                  'Content-Type: application/octet-stream\r\n\r\n' % boundary).encode() + model + b"\r\n")
    body = b"".join(parts) + ("--%s--\r\n" % boundary).encode()
    for _ in range(120):
        request = Request(normalize_url(api.host, "/api/models/%s/" % model_id), body)
        request.add_header("Content-Type", "multipart/form-data; boundary=%s" % boundary)
        request.add_header("X-CSRFToken", api._csrftoken)
        try:
            response = api.opener.open(request)
            return {"status": response.status, "body": json.loads(response.read().decode("utf-8"))}
        except HTTPError as e:
            if e.code != 503:
                return {"status": e.code, "body": e.read().decode("utf-8")}
        time.sleep(0.5)
    return {"status": 503, "body": "still 503"}


def run(command, clients):
    op = command["op"]
    if op == "connect":
        clients[command["name"]] = API(command["username"], command["password"], command["host"])
        return {"csrftoken": clients[command["name"]]._csrftoken is not None}
    api = clients[command["name"]]
    if op == "call":
        return getattr(api, command["method"])(*command.get("args", []), **command.get("kwargs", {}))
    if op == "load":
        return api.load(command["path"], **command.get("kwargs", {}))
    if op == "upload_update":
        return upload_update(api, command["model_id"], command["round"], command["sample_size"], command["path"])
    if op == "without_csrf_field":
        api.opener = WithoutCsrfField(api.opener)
        return None
    if op == "restore_opener":
        api.opener = api.opener.opener
        return None
    if op == "set_csrf_cookie":
        for cookie in api.cj:
            if cookie.name == "csrftoken":
                cookie.value = command["value"]
        return None
    if op == "forget_csrf":
        for cookie in list(api.cj):
            if cookie.name == "csrftoken":
                api.cj.clear(cookie.domain, cookie.path, cookie.name)
        api._csrftoken = None
        return None
    raise ValueError("unknown op %s" % op)


def main():
    clients = {}
    for line in sys.stdin:
        command = json.loads(line)
        try:
            answer = {"ok": True, "result": jsonable(run(command, clients))}
        except Exception:
            answer = {"ok": False, "error": traceback.format_exc()}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
