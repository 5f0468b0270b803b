"""A local AWS account for bedbatch-doctor: moto 5.2.5 plus Bedrock batch inference.

moto serves STS, IAM and S3 but none of Bedrock's batch or model-catalogue operations, and no
Service Quotas for `bedrock`. moto has no plugin system for its server, so this module adds the
operations to moto's own response classes (moto routes every Bedrock REST path to a snake_case
method of `BedrockResponse` through botocore's service model) and then runs `moto.server.main()`,
which takes moto_server's own flags (`-H 127.0.0.1 -p PORT`).

State lives on moto's backends, so `POST /moto-api/reset` clears it. A few test controls live
under `/_bedbatch/` (see `admin_app`).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import socket
import re
import sys
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote

import moto.server
from moto import settings
from moto.bedrock.responses import BedrockResponse
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError
from moto.iam.access_control import IAMPolicy, IAMRequestBase, PermissionResult, create_access_key
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.organizations.models import organizations_backends
from moto.organizations.responses import OrganizationsResponse
from moto.s3.models import s3_backends
from moto.servicequotas.responses import ServiceQuotasResponse
from moto.sts.responses import TokenResponse as STSResponse
from moto.utilities.utils import get_partition

import catalogue

JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}$")
S3_URI_RE = re.compile(r"^s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/[-!_*'().a-zA-Z0-9]+)*/?$")
ROLE_ARN_RE = re.compile(r"^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$")
ACTIVE = ["Submitted", "Validating", "Scheduled", "InProgress"]
# Each read of a job moves it one step along this path. StopModelInvocationJob moves an active
# job to Stopping; the next read makes it Stopped, and a job stopped while InProgress writes the
# output and manifest of the records it had processed (the first half of each input file).
NEXT_STATUS = {
    "Submitted": "Validating",
    "Validating": "Scheduled",
    "Scheduled": "InProgress",
    "InProgress": "Completed",
    "Stopping": "Stopped",
}


# --------------------------------------------------------------------------- errors


class BedrockError(JsonRESTError):
    def __init__(self, error_type: str, message: str, status: int = 400):
        super().__init__(error_type, message)
        self.code = status


def validation(msg: str) -> BedrockError:
    return BedrockError("ValidationException", msg, 400)


def not_found(msg: str) -> BedrockError:
    return BedrockError("ResourceNotFoundException", msg, 404)


def access_denied(msg: str) -> BedrockError:
    return BedrockError("AccessDeniedException", msg, 403)


# --------------------------------------------------------------------------- test controls

_admin_lock = threading.Lock()
_admin: dict[str, Any] = {"requests": [], "faults": [], "record_errors": {}, "stats": {}, "hooks": []}


def _reset_admin() -> None:
    with _admin_lock:
        _admin["requests"] = []
        _admin["faults"] = []
        _admin["record_errors"] = {}
        _admin["stats"] = {}
        _admin["hooks"] = []
        catalogue.ADDED.clear()


def _stat(model_id: str) -> dict[str, int]:
    return _admin["stats"].setdefault(model_id, {"created": 0, "peak_active": 0, "quota_refusals": 0})


def _credential_service(environ: dict[str, Any]) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    return m.group(1) if m else ""


def _request_action(environ: dict[str, Any], body: bytes, service: str) -> str:
    """A name for the operation: Action= for query protocols, X-Amz-Target, else METHOD path."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.split(".")[-1]
    if service in ("iam", "sts"):
        qs = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" in qs:
            return qs["Action"][0]
        try:
            form = parse_qs(body.decode("utf-8", "replace"))
            if "Action" in form:
                return form["Action"][0]
        except Exception:
            pass
    query = environ.get("QUERY_STRING", "")
    return f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}" + (
        f"?{query}" if query else ""
    )


def _request_target(environ: dict[str, Any], body: bytes, service: str) -> str:
    """The names a request acts on (RoleName=…, UserName=…, or the S3 path), for the log and
    for faults aimed at one test's resources."""
    if service in ("iam", "sts"):
        try:
            form = parse_qs(body.decode("utf-8", "replace"))
        except Exception:
            return ""
        names = [f"{k}={form[k][0]}" for k in ("RoleName", "UserName", "GroupName", "PolicyName") if k in form]
        return " ".join(names)
    return environ.get("PATH_INFO", "")


def admin_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """`/_bedbatch/requests` (GET: the request log; DELETE: clear it) and `/_bedbatch/faults`
    (POST {"service", "action", "target", "count", "status", "code", "message"}: answer the next `count`
    matching requests with that error; DELETE: clear them), `/_bedbatch/quotas` (POST {"region",
    "quotaCode", "value", "account"?}: set an applied quota value), `/_bedbatch/models` (POST a
    catalogue entry: a model the account has that the tool's catalogue may not), and
    `/_bedbatch/jobs` (POST {"jobName", "modelId", "roleArn", "inputUri", "outputUri", "status",
    "message"?, "inputRecordCount"?, "successRecordCount"?, "errorRecordCount"?, "region"?,
    "account"?}: a job in any status; terminal ones get their manifest.json.out and .out records),
    `/_bedbatch/record-errors` (POST {"recordIds", "errorCode"?, "errorMessage"?, "times"?}: those
    records fail at the record level, as a model error does, the next `times` (default 1) jobs that
    process them) and `/_bedbatch/stats` (GET: per model, jobs created, the peak of active jobs,
    and creates refused by the concurrency quota)."""
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    status, payload = "200 OK", {}
    with _admin_lock:
        if path == "/_bedbatch/requests":
            if method == "DELETE":
                _admin["requests"] = []
            payload = {"requests": list(_admin["requests"])}
        elif path == "/_bedbatch/faults":
            if method == "POST":
                fault = json.loads(body or b"{}")
                if "rate" in fault:
                    # A seeded fraction of the matching requests fails, until DELETE.
                    fault.setdefault("kinds", ["throttle", "5xx"])
                    unknown = [k for k in fault["kinds"] if k not in FAULT_KINDS]
                    if unknown or not 0 <= float(fault["rate"]) <= 1:
                        status = "400 Bad Request"
                        payload = {"error": f"unknown fault kinds {unknown} (known: {list(FAULT_KINDS)}) or a rate outside 0..1"}
                    else:
                        fault.update(_rng=random.Random(int(fault.get("seed", 0))), fired=0, seen=0, fired_by_kind={k: 0 for k in fault["kinds"]})
                        _admin["faults"].append(fault)
                else:
                    fault.setdefault("count", 1)
                    fault.setdefault("status", 500)
                    fault.setdefault("code", "InternalFailure")
                    fault.setdefault("message", "injected fault")
                    _admin["faults"].append(fault)
            elif method == "DELETE":
                key = (parse_qs(environ.get("QUERY_STRING", "")).get("access_key") or [None])[0]
                _admin["faults"] = [f for f in _admin["faults"] if key and f.get("access_key") != key]
            if status.startswith("200"):
                payload = {"faults": [_fault_view(f) for f in _admin["faults"]]}
        elif path == "/_bedbatch/models" and method == "POST":
            model = json.loads(body or b"{}")
            for field, default in (("provider", "Example"), ("family", "anthropic"), ("input", ["TEXT"]), ("output", ["TEXT"]),
                                   ("inference_types", ["ON_DEMAND"]), ("batch", True), ("access", True), ("geos", [])):
                model.setdefault(field, default)
            catalogue.ADDED.append(model)
            payload = {"ok": True}
        elif path == "/_bedbatch/jobs" and method == "POST":
            try:
                payload = {"jobArn": inject_job(json.loads(body or b"{}"))}
            except (KeyError, ValueError) as e:
                status, payload = "400 Bad Request", {"error": str(e)}
        elif path == "/_bedbatch/record-errors" and method == "POST":
            req = json.loads(body or b"{}")
            for rid in req["recordIds"]:
                _admin["record_errors"][rid] = {
                    "errorCode": int(req.get("errorCode", 500)),
                    "errorMessage": req.get("errorMessage", "Model error: the model returned an error. Try your request again."),
                    "times": int(req.get("times", 1)),
                }
            payload = {"ok": True, "records": len(_admin["record_errors"])}
        elif path == "/_bedbatch/hooks" and method == "POST":
            hook = json.loads(body or b"{}")
            if "put_bucket_policy" not in hook:
                status, payload = "400 Bad Request", {"error": "a hook needs put_bucket_policy: {bucket, policy}"}
            else:
                _admin["hooks"].append(hook)
                payload = {"hooks": len(_admin["hooks"])}
        elif path == "/_bedbatch/stats":
            payload = {"stats": _admin["stats"]}
        elif path == "/_bedbatch/quotas" and method == "POST":
            req = json.loads(body or b"{}")
            set_quota_value(req.get("account", "123456789012"), req["region"], req["quotaCode"], float(req["value"]))
            payload = {"ok": True}
        else:
            status, payload = "404 Not Found", {"error": f"no such control: {path}"}
    data = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


FAULT_KINDS = ("throttle", "5xx", "timeout", "reset", "reset-after")

# Each service's throttling error, as AWS answers it (code, HTTP status): IAM and STS
# `Throttling` (Query API common errors), S3 `SlowDown` 503 (S3 error responses), Bedrock and KMS
# `ThrottlingException`, Service Quotas and Organizations `TooManyRequestsException`.
THROTTLE = {
    "iam": ("Throttling", 400),
    "sts": ("Throttling", 400),
    "s3": ("SlowDown", 503),
    "bedrock": ("ThrottlingException", 429),
    "kms": ("ThrottlingException", 400),
    "servicequotas": ("TooManyRequestsException", 400),
    "organizations": ("TooManyRequestsException", 400),
}


def _fault_view(fault: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fault.items() if not k.startswith("_")}


def _s3_operation(environ: dict[str, Any]) -> str:
    """The S3 operation a request makes, by method, path and query (path-style or
    virtual-hosted): GetObject, PutObject, ListObjectsV2, GetBucketPolicy, …"""
    method = environ.get("REQUEST_METHOD", "")
    path = environ.get("PATH_INFO", "") or "/"
    host = environ.get("HTTP_HOST", "").split(":")[0]
    virtual = host.count(".") >= 1 and not re.match(r"^[0-9.]+$", host) and host not in ("localhost",) and not host.startswith("s3.")
    parts = [p for p in path.split("/") if p]
    has_key = len(parts) >= (1 if virtual else 2)
    has_bucket = virtual or len(parts) >= 1
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    sub = {"policy": "BucketPolicy", "encryption": "BucketEncryption", "location": "BucketLocation", "tagging": "BucketTagging",
           "publicAccessBlock": "PublicAccessBlock", "ownershipControls": "BucketOwnershipControls", "versioning": "BucketVersioning"}
    if not has_bucket:
        return "ListBuckets"
    if not has_key:
        for q, name in sub.items():
            if q in query:
                return {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, method) + name
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        return {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method, method)
    return {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject", "DELETE": "DeleteObject", "POST": "PostObject"}.get(method, method)


def _access_key(environ: dict[str, Any]) -> str:
    m = re.search(r"Credential=([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return m.group(1) if m else ""


def _take_fault(service: str, action: str, target: str, op: str = "", key: str = "") -> dict[str, Any] | None:
    """The fault to answer this request with, if any: a counted one (the next `count` matching
    requests), or a rate one (a seeded fraction of them, one of its `kinds` each time)."""
    with _admin_lock:
        for fault in _admin["faults"]:
            if (
                fault.get("service") in (None, service)
                and fault.get("action") in (None, action, op)
                and (not fault.get("target") or fault["target"] in target)
                and fault.get("access_key") in (None, key)
            ):
                if "rate" in fault:
                    fault["seen"] += 1
                    rng = fault["_rng"]
                    if rng.random() >= float(fault["rate"]):
                        continue
                    fault["fired"] += 1
                    kind = rng.choice(fault["kinds"])
                    fault["fired_by_kind"][kind] += 1
                    return {"kind": kind, "delay": float(fault.get("delay", 5))}
                fault["count"] -= 1
                if fault["count"] <= 0:
                    _admin["faults"].remove(fault)
                return fault
    return None


def _run_hooks(service: str, action: str, op: str, key: str) -> None:
    with _admin_lock:
        due = [
            h
            for h in _admin["hooks"]
            if h.get("service") in (None, service) and h.get("action") in (None, action, op) and h.get("access_key") in (None, key)
        ]
        for h in due:
            _admin["hooks"].remove(h)
    for h in due:
        edit = h["put_bucket_policy"]
        policy = edit["policy"] if isinstance(edit["policy"], str) else json.dumps(edit["policy"])
        _s3_backend(edit.get("account", "123456789012"), "aws").put_bucket_policy(edit["bucket"], policy.encode())


def _answer_fault(fault: dict[str, Any], service: str, environ: dict[str, Any], start_response: Any):
    kind = fault.get("kind")
    if kind == "reset":
        # Close the connection without an answer, as a reset does.
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionResetError("injected reset")
    if kind == "timeout":
        # Hold the answer past the client's timeout, then give a server error.
        time.sleep(fault["delay"])
        code, status, message = "InternalFailure", 500, "injected timeout"
    elif kind == "throttle":
        code, status = THROTTLE.get(service, ("ThrottlingException", 400))
        message = "Rate exceeded"
    elif kind == "5xx":
        code, status = ("InternalError", 500) if service == "s3" else ("InternalFailure", 500)
        message = "We encountered an internal error. Please try again."
    else:
        code, status, message = fault["code"], fault["status"], fault["message"]
    data = json.dumps({"__type": code, "message": message}).encode()
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    if service in ("iam", "sts"):
        data = f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>".encode()
        headers = [("Content-Type", "text/xml")]
    elif service == "s3":
        data = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        headers = [("Content-Type", "application/xml")]
    start_response(f"{status} Injected", headers + [("Content-Length", str(len(data)))])
    return [data]


_original_call = DomainDispatcherApplication.__call__


def _dispatch(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/_bedbatch/"):
        return admin_app(environ, start_response)
    if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
        _reset_admin()
        return _original_call(self, environ, start_response)
    if path.startswith("/moto-api"):
        return _original_call(self, environ, start_response)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    service = _credential_service(environ)
    action = _request_action(environ, body, service)
    target = _request_target(environ, body, service)
    with _admin_lock:
        _admin["requests"].append(
            {"service": service, "action": action, "method": environ.get("REQUEST_METHOD"), "target": target}
        )
    op = _s3_operation(environ) if service == "s3" else ""
    _run_hooks(service, action, op, _access_key(environ))
    fault = _take_fault(service, action, target, op, _access_key(environ))
    if fault:
        if fault.get("kind") == "reset-after":
            # The service acts on the request, then the answer is lost on the way back.
            for _ in _original_call(self, environ, lambda *a, **k: None):
                pass
            return _answer_fault({"kind": "reset"}, service, environ, start_response)
        return _answer_fault(fault, service, environ, start_response)
    return _original_call(self, environ, start_response)


# --------------------------------------------------------------------------- moto fixes


def _create_aws_request_fixed(self: IAMRequestBase):
    """moto takes the request's form data (for a body-less GET: its headers) as the body it
    signs; an empty body is right for GET/HEAD/DELETE, so Bedrock GETs verify under enforcement."""
    from botocore.awsrequest import AWSRequest

    signed_headers = self._get_string_between(
        "SignedHeaders=", ",", self._headers["Authorization"]
    ).split(";")
    headers = self._create_headers_for_aws_request(signed_headers, self._headers)
    if self._method.upper() in ("GET", "HEAD", "DELETE"):
        data: Any = b""
    else:
        data = self._body or self._data
    request = AWSRequest(method=self._method, url=self._path, data=data, headers=headers)
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request


# --------------------------------------------------------------------------- helpers


def _now() -> float:
    return round(time.time(), 3)


def _iso(ts: float) -> str:
    """Bedrock's model declares its timestamps iso8601 (not the JSON protocols' epoch default)."""
    import datetime

    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _enforcing() -> bool:
    return ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT


def _resolve_model(model_id: str, region: str, account: str):
    """-> (catalogue entry, profile geo or None) or (None, None)."""
    ident = unquote(model_id)
    m = re.match(r"^arn:aws(?:-[a-z-]+)?:bedrock:([a-z0-9-]+):(\d{12})?:(foundation-model|inference-profile)/(.+)$", ident)
    if m:
        kind, ident = m.group(3), m.group(4)
        if kind == "inference-profile":
            return catalogue.model_by_profile(ident)
        return catalogue.model_by_id(ident), None
    model = catalogue.model_by_id(ident)
    if model:
        return model, None
    return catalogue.model_by_profile(ident)


def _model_arn(partition: str, region: str, model_id: str) -> str:
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def _model_summary(model: dict[str, Any], partition: str, region: str) -> dict[str, Any]:
    return {
        "modelArn": _model_arn(partition, region, model["id"]),
        "modelId": model["id"],
        "modelName": model["name"],
        "providerName": model["provider"],
        "inputModalities": model["input"],
        "outputModalities": model["output"],
        "responseStreamingSupported": model["family"] not in EMBEDDING_FAMILIES,
        "customizationsSupported": [],
        "inferenceTypesSupported": model["inference_types"],
        "modelLifecycle": {"status": "ACTIVE"},
    }


def _profile_arn(partition: str, region: str, account: str, model: dict[str, Any], geo: str) -> str:
    return f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{geo}.{model['id']}"


def _profile_routes(partition: str, model: dict[str, Any], geo: str) -> list[str]:
    return [_model_arn(partition, r, model["id"]) for r in catalogue.PROFILE_REGIONS[geo]]


def _profile_summary(model: dict[str, Any], geo: str, partition: str, region: str, account: str):
    regions = catalogue.PROFILE_REGIONS[geo]
    return {
        "inferenceProfileName": f"{catalogue.GEO_NAMES[geo]} {model['name']}",
        "description": f"Routes requests to {model['name']} in {', '.join(regions)}.",
        "inferenceProfileArn": _profile_arn(partition, region, account, model, geo),
        "inferenceProfileId": f"{geo}.{model['id']}",
        "models": [{"modelArn": a} for a in _profile_routes(partition, model, geo)],
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def _parse_s3_uri(uri: str) -> tuple[str, str]:
    rest = uri[len("s3://"):]
    bucket, _, key = rest.partition("/")
    return bucket, key


def _jobs(backend: Any) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "bedbatch_jobs"):
        backend.bedbatch_jobs = {}
    return backend.bedbatch_jobs


def _quota_values(backend: Any) -> dict[str, float]:
    if not hasattr(backend, "bedbatch_quota_values"):
        backend.bedbatch_quota_values = {}
    return backend.bedbatch_quota_values


def _quota_value(account: str, region: str, model: dict[str, Any], kind: str) -> float:
    from moto.servicequotas.models import servicequotas_backends

    backend = servicequotas_backends[account][region]
    code = catalogue.quota_code(model["id"], kind)
    for k, _name, default, _adj in catalogue.QUOTA_KINDS:
        if k == kind:
            return _quota_values(backend).get(code, default)
    raise KeyError(kind)


def _policy_allows(documents: list[Any], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    permitted = False
    for doc in documents:
        result = IAMPolicy(doc).is_action_permitted(action, resource, None, context)
        if result == PermissionResult.DENIED:
            return False
        if result == PermissionResult.PERMITTED:
            permitted = True
    return permitted


def _role_documents(role: Any) -> list[Any]:
    return list(role.policies.values()) + list(role.managed_policies.values())


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _wild_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + "$"
    return re.match(regex, value, re.I if ignore_case else 0) is not None


def _trust_allows_bedrock(document: str, context: dict[str, str]) -> tuple[bool, str]:
    """Does the trust policy let bedrock.amazonaws.com AssumeRole with this request context?
    Returns (allowed, reason). Handles the operators trust policies use; any condition key the
    context lacks fails, as on AWS (…IfExists and negated operators aside)."""
    try:
        policy = json.loads(unquote(document) if document.lstrip().startswith("%") else document)
    except ValueError:
        return False, "the trust policy is not valid JSON"
    allowed = False
    reason = "no statement allows bedrock.amazonaws.com to call sts:AssumeRole"
    for st in _as_list(policy.get("Statement")):
        actions = _as_list(st.get("Action"))
        if not any(_wild_match(a, "sts:AssumeRole", True) for a in actions):
            continue
        principal = st.get("Principal")
        if principal == "*":
            names_bedrock = True
        elif isinstance(principal, dict):
            names_bedrock = "bedrock.amazonaws.com" in _as_list(principal.get("Service")) or "*" in _as_list(principal.get("AWS"))
        else:
            names_bedrock = False
        if not names_bedrock:
            continue
        ok, why = _conditions_hold(st.get("Condition") or {}, context)
        if st.get("Effect") == "Deny" and ok:
            return False, "an explicit Deny in the trust policy"
        if st.get("Effect") == "Allow":
            if ok:
                allowed = True
            else:
                reason = why
    return allowed, ("" if allowed else reason)


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> tuple[bool, str]:
    lowered = {k.lower(): v for k, v in context.items()}
    for op, block in conditions.items():
        base = op.split(":")[-1]
        if_exists = base.endswith("IfExists")
        base = base[: -len("IfExists")] if if_exists else base
        for key, expected in block.items():
            actual = lowered.get(key.lower())
            values = [str(v) for v in _as_list(expected)]
            if actual is None:
                if if_exists or base.startswith("StringNot") or base.startswith("ArnNot"):
                    continue
                if base == "Null":
                    if any(v.lower() == "true" for v in values):
                        continue
                return False, f"condition {op} on {key}: Bedrock supplies no {key}"
            if base == "StringEquals":
                ok = actual in values
            elif base == "StringEqualsIgnoreCase":
                ok = actual.lower() in [v.lower() for v in values]
            elif base in ("StringLike", "ArnLike", "ArnEquals"):  # ArnEquals takes wildcards too
                ok = any(_wild_match(v, actual) for v in values)
            elif base == "StringNotEquals":
                ok = actual not in values
            elif base in ("StringNotLike", "ArnNotLike", "ArnNotEquals"):
                ok = not any(_wild_match(v, actual) for v in values)
            elif base == "Null":
                ok = any(v.lower() == "false" for v in values)
            elif base == "Bool":
                ok = actual.lower() in [v.lower() for v in values]
            else:
                ok = False
            if not ok:
                return False, f"condition {op} on {key}: {actual} does not match {values}"
    return True, ""


# --------------------------------------------------------------------------- job processing


def _s3_backend(account: str, partition: str) -> Any:
    return s3_backends[account][partition]


def _input_objects(s3: Any, uri: str) -> list[tuple[str, str]]:
    bucket, key = _parse_s3_uri(uri)
    b = s3.get_bucket(bucket)
    if key and not key.endswith("/") and key in b.keys:
        return [(bucket, key)]
    prefix = key if (not key or key.endswith("/")) else key + "/"
    names = sorted(k for k in b.keys.keys() if k.startswith(prefix) and k.endswith(".jsonl"))
    return [(bucket, k) for k in names]


def _bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.get_bucket(bucket)
        return True
    except Exception:
        return False


def _validate_job(job: dict[str, Any]) -> str | None:
    """The checks Bedrock makes while a job is Validating. Returns a failure message or None."""
    account, region, partition = job["_account"], job["_region"], job["_partition"]
    iam = iam_backends[account][partition]
    try:
        role = iam.get_role_by_arn(job["roleArn"])
    except Exception:
        return f"The provided role {job['roleArn']} does not exist or is not accessible."
    context = {
        "aws:SourceAccount": account,
        "aws:SourceArn": job["jobArn"],
    }
    ok, why = _trust_allows_bedrock(role.assume_role_policy_document, context)
    if not ok:
        return (
            f"Bedrock could not assume the provided IAM role {job['roleArn']}. "
            f"Ensure the role has a trust relationship with bedrock.amazonaws.com ({why})."
        )
    s3 = _s3_backend(account, partition)
    in_uri = job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
    out_uri = job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
    in_bucket, in_key = _parse_s3_uri(in_uri)
    out_bucket, out_key = _parse_s3_uri(out_uri)
    for bucket in (in_bucket, out_bucket):
        if not _bucket_exists(s3, bucket):
            return f"The specified bucket does not exist: {bucket}"
    docs = _role_documents(role)
    arn = f"arn:{partition}:s3:::"
    if not _policy_allows(docs, "s3:ListBucket", f"{arn}{in_bucket}"):
        return f"Access denied when listing the input location {in_uri} with role {job['roleArn']} (s3:ListBucket)."
    objects = _input_objects(s3, in_uri)
    if not objects:
        return f"No .jsonl input files found at {in_uri}."
    for bucket, key in objects:
        if not _policy_allows(docs, "s3:GetObject", f"{arn}{bucket}/{key}"):
            return f"Access denied when reading the input file s3://{bucket}/{key} with role {job['roleArn']} (s3:GetObject)."
    probe = out_key + ("" if not out_key or out_key.endswith("/") else "/") + job["_job_id"] + "/manifest.json.out"
    if not _policy_allows(docs, "s3:PutObject", f"{arn}{out_bucket}/{probe}"):
        return f"Access denied when writing to the output location {out_uri} with role {job['roleArn']} (s3:PutObject)."
    geo = job.get("_geo")
    if geo:
        # AWS, "Create a custom service role for batch inference": with an inference profile the
        # role must be allowed bedrock:InvokeModel on the profile and on the model in every
        # Region the profile routes to.
        model = job["_model"]
        for resource in [_profile_arn(partition, region, account, model, geo)] + _profile_routes(partition, model, geo):
            target_region = resource.split(":")[3]
            # Bedrock's session of the role: aws:PrincipalArn is the role's ARN (see _scp_allows).
            ok, why = _scp_allows(account, "bedrock:InvokeModel", resource, {"aws:RequestedRegion": target_region, "aws:PrincipalArn": job["roleArn"]})
            if not ok:
                return f"Access denied for the role {job['roleArn']} to perform bedrock:InvokeModel on {resource} (aws:RequestedRegion {target_region}) {why}."
            if not _policy_allows(docs, "bedrock:InvokeModel", resource):
                return (
                    f"Access denied for the role {job['roleArn']} to perform bedrock:InvokeModel on {resource}. "
                    "When the model is an inference profile, the service role needs bedrock:InvokeModel on the profile "
                    "and on the foundation model in each Region the profile routes to."
                )
    model = job["_model"]
    min_records = _quota_value(account, region, model, "min-records")
    per_file = _quota_value(account, region, model, "records-per-file")
    per_job = _quota_value(account, region, model, "records-per-job")
    total = half = 0
    for bucket, key in objects:
        count = sum(1 for line in _lines(s3.get_object(bucket, key).value) if line.strip())
        if count > per_file:
            return f"The input file s3://{bucket}/{key} has {count} records, more than the maximum of {int(per_file)} records per file."
        total += count
        half += count // 2
    if total < min_records:
        return f"The number of records in the input ({total}) is less than the minimum of {int(min_records)} records required for a batch inference job."
    if total > per_job:
        return f"The job has {total} records, more than the maximum of {int(per_job)} records per job."
    job["_records"] = total
    job["_half"] = half
    return None


def _lines(data: bytes) -> list[str]:
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()


EMBEDDING_FAMILIES = ("titan-embed", "titan-embed-image", "nova-embed", "cohere-embed")


class RecordError(ValueError):
    """A record that fails for a reason other than a malformed body: its own errorCode and
    errorMessage go into the record's `error` object as they are."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _digest(model_input: dict[str, Any]) -> str:
    """The record's fingerprint: sha256 of its modelInput serialised with sorted keys, so the
    answer (and an embedding) depends on the input and nothing else."""
    return hashlib.sha256(json.dumps(model_input, sort_keys=True).encode()).hexdigest()


def _floats(digest: str, n: int) -> list[float]:
    """`n` deterministic floats in [-1, 1] from the digest (a 64-bit LCG, Knuth's MMIX constants)."""
    state = int(digest[:16], 16)
    out = []
    for _ in range(n):
        state = (6364136223846793005 * state + 1442695040888963407) % (1 << 64)
        out.append(round((state >> 11) / float(1 << 53) * 2 - 1, 6))
    return out


def _limit(value: Any, where: str) -> int | None:
    """An output-token ceiling from the body: None when absent, else a positive integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: must be a positive integer")
    return value


def _cap(answer: str, limit: int | None) -> tuple[str, int, bool]:
    """-> (text, output tokens, truncated). The answer is max(1, len // 4) tokens; a smaller
    ceiling cuts it to `limit` tokens (4 characters each), as a model stops at its max tokens."""
    tokens = max(1, len(answer) // 4)
    if limit is not None and limit < tokens:
        return answer[: limit * 4], limit, True
    return answer, tokens, False


def _messages(model_input: dict[str, Any], roles: tuple[str, ...], blocks: bool) -> list[Any]:
    """A non-empty `messages` list of {role, content}; with `blocks`, content is a non-empty
    list of content-block objects (Converse, Nova), else a string or a list (chat bodies)."""
    messages = model_input.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError("messages: required non-empty list")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise ValueError(f"messages[{i}]: must be an object")
        if m.get("role") not in roles:
            raise ValueError(f"messages[{i}].role: must be one of {', '.join(roles)}")
        content = m.get("content")
        if blocks:
            if not isinstance(content, list) or not content or not all(isinstance(b, dict) for b in content):
                raise ValueError(f"messages[{i}].content: required non-empty list of content blocks")
        elif not isinstance(content, (str, list)):
            raise ValueError(f"messages[{i}].content: required string or list")
    return messages


def _converse_output(model: dict[str, Any], model_input: dict[str, Any], answer: str, in_tokens: int):
    """A Converse job's record: the Converse request and response (AWS Converse API reference,
    https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html; batch
    writes the Converse response body for Converse jobs, "View the results of a batch inference
    job", https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html)."""
    if model["family"] in EMBEDDING_FAMILIES:
        # Converse serves text models only ("Supported models and model features",
        # https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-supported-models-features.html).
        raise RecordError(400, f"The model {model['id']} does not support the Converse API: create the job with modelInvocationType InvokeModel.")
    if "toolConfig" in model_input:
        # "Batch inference doesn't support tool calling (function calling) for jobs that use the
        # Converse invocation type. Records that include toolConfig fail with a 400 error."
        # (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference.html; an older
        # version of the page refuses tool calling for both invocation types.)
        raise RecordError(400, "Batch inference doesn't support tool calling for jobs that use the Converse invocation type: remove toolConfig from the record.")
    _messages(model_input, ("user", "assistant"), blocks=True)
    if "system" in model_input and not isinstance(model_input["system"], list):
        raise ValueError("system: must be a list of content blocks")
    config = model_input.get("inferenceConfig") or {}
    if not isinstance(config, dict):
        raise ValueError("inferenceConfig: must be an object")
    text, out_tokens, cut = _cap(answer, _limit(config.get("maxTokens"), "inferenceConfig.maxTokens"))
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "max_tokens" if cut else "end_turn",
        "usage": {"inputTokens": in_tokens, "outputTokens": out_tokens, "totalTokens": in_tokens + out_tokens},
        "metrics": {"latencyMs": 200 + 20 * out_tokens},
    }, in_tokens, out_tokens


SCRIPT_MARK = "EMULATOR_ANSWER:"


def _scripted_answer(model_input: Any) -> str | None:
    """A test's way to choose the answer (the emulator is no model): a prompt holding
    `EMULATOR_ANSWER:` gets the rest of that line back inside a ```json fence, as a model asked
    for JSON often answers. Not an AWS behaviour: a test hook only."""
    text = json.dumps(model_input)
    i = text.find(SCRIPT_MARK)
    if i < 0:
        return None
    # The prompt sits in a JSON string: decode the string from the mark to its end.
    rest = text[i + len(SCRIPT_MARK):]
    end, escaped = 0, False
    for end, ch in enumerate(rest):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            break
    value = json.loads('"' + rest[:end] + '"').split("\n", 1)[0].strip()
    return f"Here is the JSON:\n```json\n{value}\n```"


def _model_output(model: dict[str, Any], model_input: dict[str, Any], *, converse: bool = False, created: int = 0):
    """-> (modelOutput, input_tokens, output_tokens), in the response body of the model's family
    (InvokeModel jobs) or of Converse (`converse`: the job's modelInvocationType is Converse).
    Raises ValueError for a malformed input (a 400 "Malformed input request" record error) and
    RecordError for a record that fails with its own message.

    Deterministic: the answer is "Emulated answer to H from NAME." with H the first 8 hex
    characters of the sha256 of the modelInput (sorted keys), embeddings are floats drawn from
    the same digest; input tokens are len(json)/4, output tokens len(answer)/4 (0 for
    embeddings), the numbers the manifest adds up."""
    family = model["family"]
    digest = _digest(model_input)
    in_tokens = max(1, len(json.dumps(model_input)) // 4)
    answer = f"Emulated answer to {digest[:8]} from {model['name']}."
    scripted = _scripted_answer(model_input)
    if scripted is not None:
        answer = scripted
    if converse:
        return _converse_output(model, model_input, answer, in_tokens)
    if family == "converse":
        # A Converse-only model: no AWS page documents an InvokeModel body for it.
        raise RecordError(
            400,
            f"The InvokeModel request body of {model['id']} is not supported by this emulator (no AWS page documents it): "
            "use a Converse job (modelInvocationType Converse).",
        )
    if family == "anthropic":
        # Anthropic Claude Messages API,
        # https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html
        if model_input.get("anthropic_version") != "bedrock-2023-05-31":
            raise ValueError("anthropic_version: must be bedrock-2023-05-31")
        if isinstance(model_input.get("max_tokens"), bool) or not isinstance(model_input.get("max_tokens"), int):
            raise ValueError("max_tokens: required integer")
        if not model_input.get("messages"):
            raise ValueError("messages: required non-empty list")
        text, out_tokens, cut = _cap(answer, _limit(model_input["max_tokens"], "max_tokens"))
        return {
            "id": f"msg_bdrk_{digest[8:32]}",
            "type": "message",
            "role": "assistant",
            "model": model["id"].split(".", 1)[1].rsplit("-v", 1)[0],
            "content": [{"type": "text", "text": text}],
            "stop_reason": "max_tokens" if cut else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": in_tokens, "output_tokens": out_tokens},
        }, in_tokens, out_tokens
    if family == "titan-embed":
        # Titan Text Embeddings, https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html:
        # V2 takes `dimensions` 1024 (default), 512 or 256; G1 (v1) gives 1536 and takes none.
        if not isinstance(model_input.get("inputText"), str):
            raise ValueError("inputText: required string")
        v2 = model["id"].startswith("amazon.titan-embed-text-v2")
        dims = model_input.get("dimensions")
        if dims is None:
            dims = 1024 if v2 else 1536
        elif not v2:
            raise ValueError(f"dimensions: not accepted by {model['id']}")
        elif dims not in (256, 512, 1024) or isinstance(dims, bool):
            raise ValueError("dimensions: must be 256, 512 or 1024")
        return {"embedding": _floats(digest, dims), "inputTextTokenCount": in_tokens}, in_tokens, 0
    if family == "titan-embed-image":
        # Titan Multimodal Embeddings G1, https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-mm.html:
        # inputText and/or inputImage; embeddingConfig.outputEmbeddingLength 256, 384 or 1024 (default).
        has_text, has_image = "inputText" in model_input, "inputImage" in model_input
        if not has_text and not has_image:
            raise ValueError("at least one of inputText and inputImage is required")
        if has_text and not isinstance(model_input["inputText"], str):
            raise ValueError("inputText: must be a string")
        if has_image and not isinstance(model_input["inputImage"], str):
            raise ValueError("inputImage: must be a base64-encoded string")
        config = model_input.get("embeddingConfig") or {}
        length = config.get("outputEmbeddingLength", 1024) if isinstance(config, dict) else None
        if length not in (256, 384, 1024) or isinstance(length, bool):
            raise ValueError("embeddingConfig.outputEmbeddingLength: must be 256, 384 or 1024")
        return {"embedding": _floats(digest, length), "inputTextTokenCount": in_tokens}, in_tokens, 0
    if family == "nova-embed":
        # Nova Multimodal Embeddings, synchronous schema,
        # https://docs.aws.amazon.com/nova/latest/userguide/embeddings-schema.html: taskType
        # SINGLE_EMBEDDING, embeddingPurpose required, embeddingDimension 256/384/1024/3072
        # (default 3072), exactly one of text, image, video, audio; text needs truncationMode
        # and a value or source.
        if model_input.get("taskType") != "SINGLE_EMBEDDING":
            raise ValueError("taskType: must be SINGLE_EMBEDDING")
        params = model_input.get("singleEmbeddingParams")
        if not isinstance(params, dict):
            raise ValueError("singleEmbeddingParams: required object")
        purposes = ("GENERIC_INDEX", "GENERIC_RETRIEVAL", "TEXT_RETRIEVAL", "IMAGE_RETRIEVAL", "VIDEO_RETRIEVAL",
                    "DOCUMENT_RETRIEVAL", "AUDIO_RETRIEVAL", "CLASSIFICATION", "CLUSTERING")
        if params.get("embeddingPurpose") not in purposes:
            raise ValueError(f"singleEmbeddingParams.embeddingPurpose: must be one of {', '.join(purposes)}")
        dims = params.get("embeddingDimension", 3072)
        if dims not in (256, 384, 1024, 3072) or isinstance(dims, bool):
            raise ValueError("singleEmbeddingParams.embeddingDimension: must be 256, 384, 1024 or 3072")
        present = [k for k in ("text", "image", "video", "audio") if k in params]
        if len(present) != 1:
            raise ValueError("singleEmbeddingParams: exactly one of text, image, video, audio must be present")
        kind, content = present[0], params[present[0]]
        if not isinstance(content, dict):
            raise ValueError(f"singleEmbeddingParams.{kind}: must be an object")
        if kind == "text":
            if content.get("truncationMode") not in ("START", "END", "NONE"):
                raise ValueError("singleEmbeddingParams.text.truncationMode: must be START, END or NONE")
            if not isinstance(content.get("value"), str) and not isinstance(content.get("source"), dict):
                raise ValueError("singleEmbeddingParams.text: either value or source must be provided")
        elif not isinstance(content.get("source"), dict) or not content.get("format"):
            raise ValueError(f"singleEmbeddingParams.{kind}: format and source are required")
        if kind == "video" and content.get("embeddingMode") not in ("AUDIO_VIDEO_COMBINED", "AUDIO_VIDEO_SEPARATE"):
            raise ValueError("singleEmbeddingParams.video.embeddingMode: must be AUDIO_VIDEO_COMBINED or AUDIO_VIDEO_SEPARATE")
        if kind == "video":
            types = ["AUDIO_VIDEO_COMBINED"] if content["embeddingMode"] == "AUDIO_VIDEO_COMBINED" else ["VIDEO", "AUDIO"]
        else:
            types = [kind.upper()]
        embeddings = [{"embeddingType": t, "embedding": _floats(_digest({"t": t, "d": digest}) if i else digest, dims)} for i, t in enumerate(types)]
        return {"embeddings": embeddings}, in_tokens, 0
    if family == "cohere-embed":
        # Cohere Embed v3, https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v3.html:
        # texts (0 to 96 strings) or images (one data URI), and input_type, are required; the
        # float response is {embeddings, id, response_type "embeddings_floats", texts}.
        input_types = ("search_document", "search_query", "classification", "clustering", "image")
        if model_input.get("input_type") not in input_types:
            raise ValueError(f"input_type: must be one of {', '.join(input_types)}")
        texts, images = model_input.get("texts"), model_input.get("images")
        if (texts is None) == (images is None):
            raise ValueError("exactly one of texts and images is required")
        items = texts if texts is not None else images
        if not isinstance(items, list) or not all(isinstance(t, str) for t in items):
            raise ValueError(f"{'texts' if texts is not None else 'images'}: must be a list of strings")
        if texts is not None and len(texts) > 96:
            raise ValueError("texts: at most 96 texts per call")
        if images is not None and len(images) != 1:
            raise ValueError("images: exactly one image per call")
        embeddings = [_floats(_digest({"i": i, "d": digest}), 1024) for i in range(len(items))]
        out = {"embeddings": embeddings, "id": str(uuid.UUID(digest[:32])), "response_type": "embeddings_floats", "texts": texts or []}
        if images is not None:
            out["images"] = images
        return out, in_tokens, 0
    if family == "nova":
        # Amazon Nova, https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html
        # (inferenceConfig.maxTokens; the older max_new_tokens too) and the response,
        # https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema-response.html.
        if not model_input.get("messages"):
            raise ValueError("messages: required non-empty list")
        config = model_input.get("inferenceConfig") or {}
        if not isinstance(config, dict):
            raise ValueError("inferenceConfig: must be an object")
        limit = _limit(config.get("maxTokens", config.get("max_new_tokens")), "inferenceConfig.maxTokens")
        text, out_tokens, cut = _cap(answer, limit)
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "max_tokens" if cut else "end_turn",
            "usage": {"inputTokens": in_tokens, "outputTokens": out_tokens, "totalTokens": in_tokens + out_tokens},
        }, in_tokens, out_tokens
    if family == "llama":
        # Meta Llama, https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html:
        # stop_reason "stop" or "length" (max_gen_len reached).
        if not isinstance(model_input.get("prompt"), str):
            raise ValueError("prompt: required string")
        text, out_tokens, cut = _cap(answer, _limit(model_input.get("max_gen_len"), "max_gen_len"))
        return {
            "generation": text,
            "prompt_token_count": in_tokens,
            "generation_token_count": out_tokens,
            "stop_reason": "length" if cut else "stop",
        }, in_tokens, out_tokens
    if family == "mistral":
        # Mistral AI chat completion (`messages`),
        # https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-chat-completion.html,
        # and text completion (`prompt`),
        # https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-text-completion.html:
        # stop_reason "stop" or "length"; neither response carries token counts.
        limit = _limit(model_input.get("max_tokens"), "max_tokens")
        if "messages" in model_input:
            _messages(model_input, ("system", "user", "assistant", "tool"), blocks=False)
            text, out_tokens, cut = _cap(answer, limit)
            return {
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "stop_reason": "length" if cut else "stop"}]
            }, in_tokens, out_tokens
        if not isinstance(model_input.get("prompt"), str):
            raise ValueError("prompt: required string (or messages, for chat completion)")
        text, out_tokens, cut = _cap(answer, limit)
        return {"outputs": [{"text": text, "stop_reason": "length" if cut else "stop"}]}, in_tokens, out_tokens
    if family == "deepseek":
        # DeepSeek-R1, https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-deepseek.html:
        # prompt required, max_tokens 1 to 32,768; {"choices": [{"text", "stop_reason": "stop"|"length"}]}.
        if not isinstance(model_input.get("prompt"), str):
            raise ValueError("prompt: required string")
        limit = _limit(model_input.get("max_tokens"), "max_tokens")
        if limit is not None and limit > 32768:
            raise ValueError("max_tokens: at most 32768")
        text, out_tokens, cut = _cap(answer, limit)
        return {"choices": [{"text": text, "stop_reason": "length" if cut else "stop"}]}, in_tokens, out_tokens
    if family == "openai":
        # OpenAI gpt-oss, https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-openai.html:
        # the OpenAI Create chat completion body and response (finish_reason "stop" or "length").
        _messages(model_input, ("system", "developer", "user", "assistant", "tool"), blocks=False)
        limit = _limit(model_input.get("max_completion_tokens", model_input.get("max_tokens")), "max_completion_tokens")
        text, out_tokens, cut = _cap(answer, limit)
        return {
            "id": f"chatcmpl-{digest[8:32]}",
            "object": "chat.completion",
            "created": created,
            "model": model["id"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length" if cut else "stop"}],
            "usage": {"prompt_tokens": in_tokens, "completion_tokens": out_tokens, "total_tokens": in_tokens + out_tokens},
        }, in_tokens, out_tokens
    # Titan Text and any other family: Titan Text's body,
    # https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-text.html
    text, out_tokens, _ = _cap(answer, None)
    return {"outputText": text}, in_tokens, out_tokens


def _input_records(s3: Any, job: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """-> [(input file name, its non-empty lines)] for each input file."""
    out = []
    for bucket, key in _input_objects(s3, job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]):
        out.append((key.rsplit("/", 1)[-1], [line for line in _lines(s3.get_object(bucket, key).value) if line.strip()]))
    return out


def _process_records(job: dict[str, Any], partial: bool = False) -> dict[str, int]:
    """Runs the job's records and writes `<output>/<job id>/<input file>.out` per input file and
    `manifest.json.out` ("View the results of a batch inference job",
    https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html). With
    `partial` (a job stopped while InProgress) only the first half of each file's records
    (rounded down) are processed and written: StopModelInvocationJob "You're only charged for
    tokens that were already processed" (Bedrock API reference). Returns the manifest's counts."""
    s3 = _s3_backend(job["_account"], job["_partition"])
    model = job["_model"]
    converse = job.get("modelInvocationType") == "Converse"
    created = int(job.get("submitTime") or 0)
    out_bucket, out_key = _parse_s3_uri(job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"])
    base = out_key + ("" if not out_key or out_key.endswith("/") else "/") + job["_job_id"] + "/"
    total = processed = success = errors = in_tok = out_tok = 0
    for name, lines in _input_records(s3, job):
        first = total
        total += len(lines)
        todo = lines[: len(lines) // 2] if partial else lines
        if partial and not todo:
            continue
        out_lines = []
        for offset, line in enumerate(todo):
            position = first + offset + 1
            processed += 1
            record: dict[str, Any] = {}
            try:
                parsed = json.loads(line)
                if not isinstance(parsed, dict):
                    raise ValueError("each line must be a JSON object")
                record_id = parsed.get("recordId") or f"{position:011d}"
                record = {"recordId": record_id, "modelInput": parsed.get("modelInput")}
                if not isinstance(parsed.get("modelInput"), dict):
                    raise ValueError("modelInput: required object")
                injected = _take_record_error(record_id)
                if injected:
                    record["error"] = injected
                    errors += 1
                    out_lines.append(json.dumps(record))
                    continue
                output, i_t, o_t = _model_output(model, parsed["modelInput"], converse=converse, created=created)
                record["modelOutput"] = output
                success += 1
                in_tok += i_t
                out_tok += o_t
            except RecordError as e:
                record.setdefault("recordId", f"{position:011d}")
                record["error"] = {"errorCode": e.code, "errorMessage": e.message}
                errors += 1
            except ValueError as e:
                record.setdefault("recordId", f"{position:011d}")
                record["error"] = {"errorCode": 400, "errorMessage": f"Malformed input request: {e}"}
                errors += 1
            out_lines.append(json.dumps(record))
        # The records go out in an order other than the input's (odd positions first), so a
        # reader that matches output to input by position rather than by recordId is caught.
        out_lines = out_lines[1::2] + out_lines[0::2]
        s3.put_object(out_bucket, f"{base}{name}.out", ("\n".join(out_lines) + "\n").encode())
    manifest = {
        "totalRecordCount": total,
        "processedRecordCount": processed,
        "successRecordCount": success,
        "errorRecordCount": errors,
        "inputTokenCount": in_tok,
        "outputTokenCount": out_tok,
    }
    s3.put_object(out_bucket, f"{base}manifest.json.out", json.dumps(manifest).encode())
    # GetModelInvocationJob's progress fields (botocore bedrock service model, 1.42.81).
    job.update(totalRecordCount=total, processedRecordCount=processed, successRecordCount=success, errorRecordCount=errors)
    return manifest


def _complete_job(job: dict[str, Any]) -> None:
    """Processes every record; Completed, or PartiallyCompleted when some records failed."""
    counts = _process_records(job)
    success, errors = counts["successRecordCount"], counts["errorRecordCount"]
    job["status"] = "PartiallyCompleted" if errors and success else "Completed"
    if errors and not success:
        job["message"] = "All records failed: check the modelInput of each record."


def _stop_job(job: dict[str, Any]) -> None:
    """Stopping -> Stopped. A job stopped while InProgress writes the output of the records it
    had processed (the first half of each input file) and its manifest; one stopped earlier
    processed none and writes nothing."""
    if job.get("_stopped_in") == "InProgress":
        try:
            _process_records(job, partial=True)
        except Exception as e:  # a bucket deleted mid-job, say
            job["message"] = f"Failed to write the output: {e}"
    job["status"] = "Stopped"


def _take_record_error(record_id: str) -> dict[str, Any] | None:
    with _admin_lock:
        e = _admin["record_errors"].get(record_id)
        if not e:
            return None
        e["times"] -= 1
        if e["times"] <= 0:
            del _admin["record_errors"][record_id]
        return {"errorCode": e["errorCode"], "errorMessage": e["errorMessage"]}


def _internal(job_id: str, account: str, region: str, partition: str, model: dict[str, Any], geo: str | None, tags: list[Any]) -> dict[str, Any]:
    """The emulator's own fields of a job (never shown: `_public` drops them)."""
    return {
        "_job_id": job_id,
        "_account": account,
        "_region": region,
        "_partition": partition,
        "_model": model,
        "_geo": geo,
        "_tags": tags,
    }


TERMINAL = ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired")


def inject_job(req: dict[str, Any]) -> str:
    """The `/_bedbatch/jobs` control: a job in any status, as ListModelInvocationJobs and
    GetModelInvocationJob show it. For terminal states with processed records it writes what
    Bedrock writes: `<output>/<job id>/manifest.json.out` and `<input file>.out`, with the
    success records' modelOutput and the error records' `error` objects (`errors` cycles
    through the given {errorCode, errorMessage} pairs)."""
    from moto.bedrock.models import bedrock_backends

    account = req.get("account", "123456789012")
    region = req.get("region", "us-east-1")
    partition = get_partition(region)
    status = req["status"]
    if status not in (*ACTIVE, *TERMINAL, "Stopping"):
        raise ValueError(f"unknown status {status}")
    model, geo = _resolve_model(req["modelId"], region, account)
    if model is None:
        raise ValueError(f"unknown model {req['modelId']}")
    job_id = uuid.uuid4().hex[:12]
    arn = f"arn:{partition}:bedrock:{region}:{account}:model-invocation-job/{job_id}"
    now = _now()
    success = int(req.get("successRecordCount", 0))
    errors = int(req.get("errorRecordCount", 0))
    total = int(req.get("inputRecordCount", success + errors))
    job = {
        "jobArn": arn,
        "jobName": req["jobName"],
        "modelId": req["modelId"],
        "clientRequestToken": None,
        "roleArn": req["roleArn"],
        "status": status,
        "message": req.get("message"),
        "submitTime": now - 3600,
        "lastModifiedTime": now,
        "endTime": now if status in TERMINAL else None,
        "inputDataConfig": {"s3InputDataConfig": {"s3InputFormat": "JSONL", "s3Uri": req["inputUri"]}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": req["outputUri"]}},
        "timeoutDurationInHours": int(req.get("timeoutDurationInHours", 24)),
        "jobExpirationTime": now - 60 if status == "Expired" else now + 24 * 3600,
        "modelInvocationType": "InvokeModel",
        **_internal(job_id, account, region, partition, model, geo, []),
        "_injected": True,
    }
    if status in TERMINAL and success + errors > 0:
        job.update(totalRecordCount=total, processedRecordCount=success + errors, successRecordCount=success, errorRecordCount=errors)
        s3 = _s3_backend(account, partition)
        out_bucket, out_key = _parse_s3_uri(req["outputUri"])
        if not _bucket_exists(s3, out_bucket):
            raise ValueError(f"the output bucket {out_bucket} does not exist")
        base = out_key + ("" if not out_key or out_key.endswith("/") else "/") + job_id + "/"
        in_name = _parse_s3_uri(req["inputUri"])[1].rsplit("/", 1)[-1]
        in_name = in_name if in_name.endswith(".jsonl") else "input.jsonl"
        kinds = req.get("errors") or [{"errorCode": 400, "errorMessage": "Malformed input request: #: required key [messages] not found"}]
        lines = []
        for i in range(success + errors):
            record: dict[str, Any] = {"recordId": f"{i:011d}", "modelInput": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 16}}
            if i < success:
                record["modelOutput"] = {"type": "message", "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn"}
            else:
                record["error"] = kinds[(i - success) % len(kinds)]
            lines.append(json.dumps(record))
        s3.put_object(out_bucket, f"{base}{in_name}.out", ("\n".join(lines) + "\n").encode())
        manifest = {
            "totalRecordCount": total,
            "processedRecordCount": success + errors,
            "successRecordCount": success,
            "errorRecordCount": errors,
            "inputTokenCount": 10 * success,
            "outputTokenCount": 2 * success,
        }
        s3.put_object(out_bucket, f"{base}manifest.json.out", json.dumps(manifest).encode())
    _jobs(bedrock_backends[account][region])[arn] = job
    return arn


def _advance(job: dict[str, Any]) -> None:
    if job.get("_injected"):
        return
    status = job["status"]
    nxt = NEXT_STATUS.get(status)
    if not nxt:
        return
    now = _now()
    job["lastModifiedTime"] = now
    if status == "Validating":
        failure = _validate_job(job)
        if failure:
            job["status"] = "Failed"
            job["message"] = failure
            job["endTime"] = now
            return
    if nxt == "Completed":
        try:
            _complete_job(job)
        except Exception as e:  # a bucket deleted mid-job, say
            job["status"] = "Failed"
            job["message"] = f"Failed to write the output: {e}"
        job["endTime"] = now
        return
    if nxt == "Stopped":
        _stop_job(job)
        job["endTime"] = now
        return
    job["status"] = nxt
    if nxt == "InProgress" and "_records" in job:
        # Progress while InProgress (GetModelInvocationJob's totalRecordCount and
        # processedRecordCount, botocore 1.42.81 "Batch Inference Job Progress Monitoring"):
        # the emulated job has processed the first half of each input file, the records a stop
        # now would write.
        job.update(totalRecordCount=job["_records"], processedRecordCount=job["_half"])


TIMESTAMPS = ("submitTime", "lastModifiedTime", "endTime", "jobExpirationTime")


def _public(job: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in job.items() if not k.startswith("_") and v is not None}
    for k in TIMESTAMPS:
        if k in out:
            out[k] = _iso(out[k])
    return out


# --------------------------------------------------------------------------- STS

_orig_get_caller_identity = STSResponse.get_caller_identity


def sts_get_caller_identity(self: STSResponse) -> Any:
    """AWS answers an IAM user's GetCallerIdentity with the user's IAM ARN (STS API Reference,
    GetCallerIdentity, example "Arn": "arn:aws:iam::123456789012:user/Alice")
    (`arn:aws:iam::ACCOUNT:user/NAME`); moto answers the emulator's default credentials with an
    `arn:aws:sts::…:user/…` form that AWS never returns."""
    result = _orig_get_caller_identity(self)
    arn = result.result.get("Arn", "") if hasattr(result, "result") else ""
    m = re.match(r"^arn:(aws[a-z-]*):sts::(\d{12}):user/(.+)$", arn)
    if m:
        result.result["Arn"] = f"arn:{m.group(1)}:iam::{m.group(2)}:user/{m.group(3)}"
    return result


# --------------------------------------------------------------------------- Organizations


def _org_levels(account: str, policy_type: str) -> list[list[Any]] | None:
    """The policies of `policy_type` attached to the root, each OU above `account` and the
    account itself, root first; None when the account is no member (the management account,
    or in no organization: SCPs and RCPs bind neither)."""
    entry = organizations_backends.master_accounts.get(account)
    if not entry or entry[0] == account:
        return None
    backend = organizations_backends[entry[0]][entry[1]]
    chain, child = [account], account
    for _ in range(10):
        parents = backend.list_parents(ChildId=child)["Parents"]
        if not parents:
            break
        chain.append(parents[0]["Id"])
        if parents[0]["Type"] == "ROOT":
            break
        child = parents[0]["Id"]
    chain.reverse()
    return [
        [json.loads(p.content) for p in backend.policies if p.type == policy_type and any(t.id == target for t in p.attachments)]
        for target in chain
    ]


def _statement_applies(st: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    """Action/NotAction, Resource/NotResource (wildcards) and the conditions (moto's own
    IAMPolicy ignores conditions, which SCPs depend on: Region locks)."""
    if "Action" in st:
        act = any(_wild_match(a, action, ignore_case=True) for a in _as_list(st["Action"]))
    else:
        act = not any(_wild_match(a, action, ignore_case=True) for a in _as_list(st.get("NotAction")))
    if "Resource" in st:
        res = any(_wild_match(r, resource) for r in _as_list(st["Resource"]))
    else:
        res = not any(_wild_match(r, resource) for r in _as_list(st.get("NotResource")))
    return act and res and _conditions_hold(st.get("Condition") or {}, context)[0]


def _scp_allows(account: str, action: str, resource: str, context: dict[str, str]) -> tuple[bool, str]:
    """AWS's SCP rule (AWS Organizations User Guide, "SCP evaluation"): a Deny at any level
    denies, and every level — root, each OU, the account — must allow.

    The context carries aws:PrincipalArn, which for a role's session is the role's ARN with its
    path, never the session's (IAM User Guide, "AWS global condition context keys",
    aws:PrincipalArn: "For IAM roles, the request context returns the ARN of the role, not the
    ARN of the user that assumed the role."): the caller's, from _caller_principal_arn, and for
    the service role the roleArn the job was created with."""
    levels = _org_levels(account, "SERVICE_CONTROL_POLICY")
    if not levels:
        return True, ""
    statements = lambda docs: [st for d in docs for st in _as_list(d.get("Statement"))]  # noqa: E731
    for docs in levels:
        if any(st.get("Effect") == "Deny" and _statement_applies(st, action, resource, context) for st in statements(docs)):
            return False, "with an explicit deny in a service control policy"
    for docs in levels:
        if not any(st.get("Effect") == "Allow" and _statement_applies(st, action, resource, context) for st in statements(docs)):
            return False, "because no service control policy allows the action"
    return True, ""


def _caller_principal_arn(self: Any, partition: str) -> str | None:
    """aws:PrincipalArn of the signed request's caller: an IAM user's ARN, or for a role's
    session the role's ARN with its path, as IAM has it (see _scp_allows). None when the
    credentials are not the emulator's (no such key)."""
    m = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
    if not m:
        return None
    try:
        key = create_access_key(self.current_account, partition, m.group(1), dict(self.headers))
    except Exception:
        return None
    role_name = getattr(key, "_owner_role_name", None)
    if role_name:
        try:
            return key.backend.get_role(role_name).arn
        except Exception:
            return f"arn:{partition}:iam::{self.current_account}:role/{role_name}"
    return key.arn


def _organizations_backend_for_caller(self: OrganizationsResponse) -> Any:
    """A member account reads the organization as a delegated administrator would (the
    management account's view); the management account reads its own."""
    entry = organizations_backends.master_accounts.get(self.current_account)
    if entry and entry[0] != self.current_account:
        return organizations_backends[entry[0]][entry[1]]
    return organizations_backends[self.current_account][self.partition]


# --------------------------------------------------------------------------- Bedrock operations


def _backend(self: BedrockResponse) -> Any:
    return self.bedrock_backend


def create_model_invocation_job(self: BedrockResponse) -> str:
    params = json.loads(self.body or "{}")
    account, region = self.current_account, self.region
    partition = get_partition(region)
    for field in ("jobName", "roleArn", "modelId", "inputDataConfig", "outputDataConfig"):
        if not params.get(field):
            raise validation(f"1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null")
    name = params["jobName"]
    if not JOB_NAME_RE.match(name):
        raise validation(
            f"1 validation error detected: Value '{name}' at 'jobName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\\+\\-\\.]){0,63}"
        )
    timeout = params.get("timeoutDurationInHours", 168)
    if not isinstance(timeout, int) or not 24 <= timeout <= 168:
        raise validation(
            f"1 validation error detected: Value '{timeout}' at 'timeoutDurationInHours' failed to satisfy constraint: "
            "Member must have value between 24 and 168"
        )
    role_arn = params["roleArn"]
    if not ROLE_ARN_RE.match(role_arn):
        raise validation(f"1 validation error detected: Value '{role_arn}' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[^:]+)?:iam::([0-9]{{12}})?:role/.+$")
    s3_in = (params["inputDataConfig"].get("s3InputDataConfig") or {}).get("s3Uri", "")
    s3_out = (params["outputDataConfig"].get("s3OutputDataConfig") or {}).get("s3Uri", "")
    for where, uri in (("inputDataConfig.s3InputDataConfig.s3Uri", s3_in), ("outputDataConfig.s3OutputDataConfig.s3Uri", s3_out)):
        if len(uri) > 1024 or not S3_URI_RE.match(uri):
            raise validation(
                f"1 validation error detected: Value '{uri}' at '{where}' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/[-!_*'().a-zA-Z0-9]+)*/?"
            )
    invocation = params.get("modelInvocationType", "InvokeModel")
    if invocation not in ("InvokeModel", "Converse"):
        # ModelInvocationType enum ["InvokeModel", "Converse"] (botocore bedrock service model;
        # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelInvocationJob.html).
        raise validation(
            f"1 validation error detected: Value '{invocation}' at 'modelInvocationType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [InvokeModel, Converse]"
        )
    model, geo = _resolve_model(params["modelId"], region, account)
    via_profile = geo is not None
    if model is None:
        raise validation(f"The provided model identifier is invalid: {params['modelId']}")
    if not model["access"]:
        raise access_denied("You don't have access to the model with the specified model ID.")
    if not model["batch"]:
        raise validation("Batch inference is not supported for the requested model")
    if not via_profile and "ON_DEMAND" not in model["inference_types"]:
        raise validation(
            f"Invocation of model ID {model['id']} with on-demand throughput isn't supported. "
            "Retry your request with the ID or ARN of an inference profile that contains this model."
        )
    scp_context = {"aws:RequestedRegion": region}
    caller = _caller_principal_arn(self, partition)
    if caller:
        scp_context["aws:PrincipalArn"] = caller
    ok, why = _scp_allows(account, "bedrock:CreateModelInvocationJob", f"arn:{partition}:bedrock:{region}:{account}:model-invocation-job/*", scp_context)
    if not ok:
        raise access_denied(
            f"You are not authorized to perform: bedrock:CreateModelInvocationJob on resource: "
            f"arn:{partition}:bedrock:{region}:{account}:model-invocation-job/* {why}"
        )
    if _enforcing():
        _check_pass_role(self, role_arn, partition)
    jobs = _jobs(_backend(self))
    token = params.get("clientRequestToken")
    if token:
        for existing in jobs.values():
            if existing.get("clientRequestToken") == token:
                return json.dumps({"jobArn": existing["jobArn"]})
    for existing in jobs.values():
        if existing["jobName"] == name:
            raise BedrockError("ConflictException", f"A job named {name} already exists.", 400)
    running = sum(1 for j in jobs.values() if j["status"] in ACTIVE and j["_model"]["id"] == model["id"])
    limit = _quota_value(account, region, model, "concurrent-jobs")
    if running >= limit:
        with _admin_lock:
            _stat(model["id"])["quota_refusals"] += 1
        raise BedrockError(
            "ServiceQuotaExceededException",
            f"You have reached the maximum number of in-progress and submitted batch inference jobs ({int(limit)}) for {model['name']}.",
            400,
        )
    job_id = uuid.uuid4().hex[:12]
    arn = f"arn:{partition}:bedrock:{region}:{account}:model-invocation-job/{job_id}"
    now = _now()
    job = {
        "jobArn": arn,
        "jobName": name,
        "modelId": params["modelId"],
        "clientRequestToken": token,
        "roleArn": role_arn,
        "status": "Submitted",
        "message": None,
        "submitTime": now,
        "lastModifiedTime": now,
        "endTime": None,
        "inputDataConfig": {"s3InputDataConfig": {"s3InputFormat": "JSONL", **params["inputDataConfig"]["s3InputDataConfig"]}},
        "outputDataConfig": params["outputDataConfig"],
        "timeoutDurationInHours": timeout,
        "jobExpirationTime": now + timeout * 3600,
        "modelInvocationType": invocation,
        **_internal(job_id, account, region, partition, model, geo, params.get("tags") or []),
    }
    jobs[arn] = job
    with _admin_lock:
        st = _stat(model["id"])
        st["created"] += 1
        st["peak_active"] = max(st["peak_active"], running + 1)
    return json.dumps({"jobArn": arn})


def _check_pass_role(self: BedrockResponse, role_arn: str, partition: str) -> None:
    auth = self.headers.get("Authorization", "")
    m = re.search(r"Credential=([^/]+)/", auth)
    if not m:
        raise access_denied("Missing credentials")
    key = create_access_key(self.current_account, partition, m.group(1), dict(self.headers))
    docs = key.collect_policies()
    if not _policy_allows(docs, "iam:PassRole", role_arn, {"iam:PassedToService": "bedrock.amazonaws.com"}):
        raise access_denied(
            f"User: {key.arn} is not authorized to perform: iam:PassRole on resource: {role_arn} "
            "because no identity-based policy allows the iam:PassRole action"
        )


def _job_from_path(self: BedrockResponse) -> dict[str, Any]:
    path = unquote(self.path.split("?")[0])
    ident = path.split("/model-invocation-job/", 1)[1]
    if ident.endswith("/stop"):
        ident = ident[: -len("/stop")]
    jobs = _jobs(_backend(self))
    if ident in jobs:
        return jobs[ident]
    for job in jobs.values():
        if job["_job_id"] == ident or job["jobName"] == ident:
            return job
    raise not_found(f"The specified job {ident} could not be found.")


def get_model_invocation_job(self: BedrockResponse) -> str:
    job = _job_from_path(self)
    _advance(job)
    return json.dumps(_public(job))


def stop_model_invocation_job(self: BedrockResponse) -> str:
    job = _job_from_path(self)
    if job["status"] not in ACTIVE:
        raise validation(f"The job cannot be stopped because it is in status {job['status']}.")
    job["_stopped_in"] = job["status"]
    job["status"] = "Stopping"
    job["lastModifiedTime"] = _now()
    return "{}"


def list_model_invocation_jobs(self: BedrockResponse) -> str:
    q = self.querystring
    get = lambda k: (q.get(k) or [None])[0]  # noqa: E731
    jobs = list(_jobs(_backend(self)).values())
    if get("statusEquals"):
        jobs = [j for j in jobs if j["status"] == get("statusEquals")]
    if get("nameContains"):
        jobs = [j for j in jobs if get("nameContains") in j["jobName"]]
    jobs.sort(key=lambda j: j["submitTime"], reverse=get("sortOrder") != "Ascending")
    start = int(get("nextToken") or 0)
    size = int(get("maxResults") or 100)
    page = jobs[start : start + size]
    out: dict[str, Any] = {"invocationJobSummaries": [_public(j) for j in page]}
    if start + size < len(jobs):
        out["nextToken"] = str(start + size)
    return json.dumps(out)


def _model_ident_from_path(self: BedrockResponse, marker: str) -> str:
    return unquote(self.path.split("?")[0].split(marker, 1)[1])


def list_foundation_models(self: BedrockResponse) -> str:
    partition = get_partition(self.region)
    q = self.querystring
    models = catalogue.all_models()
    if q.get("byProvider"):
        models = [m for m in models if m["provider"].lower() == q["byProvider"][0].lower()]
    if q.get("byOutputModality"):
        models = [m for m in models if q["byOutputModality"][0] in m["output"]]
    if q.get("byInferenceType"):
        models = [m for m in models if q["byInferenceType"][0] in m["inference_types"]]
    return json.dumps({"modelSummaries": [_model_summary(m, partition, self.region) for m in models]})


def get_foundation_model(self: BedrockResponse) -> str:
    ident = _model_ident_from_path(self, "/foundation-models/")
    model, geo = _resolve_model(ident, self.region, self.current_account)
    if model is None or geo:
        raise not_found(f"The model {ident} does not exist.")
    return json.dumps({"modelDetails": _model_summary(model, get_partition(self.region), self.region)})


def get_foundation_model_availability(self: BedrockResponse) -> str:
    ident = _model_ident_from_path(self, "/foundation-model-availability/")
    model = catalogue.model_by_id(ident)
    if model is None:
        raise not_found(f"The model {ident} does not exist.")
    granted = model["access"]
    return json.dumps(
        {
            "modelId": model["id"],
            "agreementAvailability": {"status": "AVAILABLE" if granted else "NOT_AVAILABLE"},
            "authorizationStatus": "AUTHORIZED" if granted else "NOT_AUTHORIZED",
            "entitlementAvailability": "AVAILABLE" if granted else "NOT_AVAILABLE",
            "regionAvailability": "AVAILABLE",
        }
    )


def list_inference_profiles(self: BedrockResponse) -> str:
    q = self.querystring
    kind = (q.get("typeEquals") or ["SYSTEM_DEFINED"])[0]
    partition = get_partition(self.region)
    profiles = []
    if kind == "SYSTEM_DEFINED":
        profiles = [
            _profile_summary(m, geo, partition, self.region, self.current_account) for m in catalogue.all_models() for geo in m.get("geos", [])
        ]
    return json.dumps({"inferenceProfileSummaries": profiles})


def get_inference_profile(self: BedrockResponse) -> str:
    ident = _model_ident_from_path(self, "/inference-profiles/")
    ident = ident.rsplit("/", 1)[-1] if ident.startswith("arn:") else ident
    model, geo = catalogue.model_by_profile(ident)
    if model is None:
        raise not_found(f"The inference profile {ident} does not exist.")
    return json.dumps(_profile_summary(model, geo, get_partition(self.region), self.region, self.current_account))


# --------------------------------------------------------------------------- Service Quotas


def _bedrock_quotas(self: ServiceQuotasResponse, applied: bool) -> list[dict[str, Any]]:
    account, region = self.current_account, self.region
    values = _quota_values(self.backend)
    out = []
    for model in catalogue.all_models():
        if not model["batch"]:
            continue
        for kind, name, default, adjustable in catalogue.QUOTA_KINDS:
            code = catalogue.quota_code(model["id"], kind)
            if applied == "only" and code not in values:
                # ListServiceQuotas lists applied values only (Service Quotas API Reference,
                # ListServiceQuotas): a quota never changed in the account is absent there, and
                # ListAWSDefaultServiceQuotas has it.
                continue
            out.append(
                {
                    "ServiceCode": "bedrock",
                    "ServiceName": "Amazon Bedrock",
                    "QuotaArn": f"arn:{get_partition(region)}:servicequotas:{region}:{account}:bedrock/{code}",
                    "QuotaCode": code,
                    "QuotaName": name.format(name=model["name"]),
                    "Value": values.get(code, default) if applied else default,
                    "Unit": "None",
                    "Adjustable": adjustable,
                    "GlobalQuota": False,
                }
            )
    return out


def _paged(self: ServiceQuotasResponse, items: list[dict[str, Any]]) -> dict[str, Any]:
    params = json.loads(self.body or "{}")
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or 100)
    out: dict[str, Any] = {"Quotas": items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


def _no_such_quota(code: str) -> JsonRESTError:
    return JsonRESTError("NoSuchResourceException", f"The request failed because the specified quota {code} does not exist.")


_orig_get_service_quota = ServiceQuotasResponse.get_service_quota
_orig_list_defaults = ServiceQuotasResponse.list_aws_default_service_quotas


def sq_list_service_quotas(self: ServiceQuotasResponse) -> str:
    params = json.loads(self.body or "{}")
    if params.get("ServiceCode") != "bedrock":
        raise JsonRESTError("NoSuchResourceException", "The request failed because the specified service does not exist.")
    return json.dumps(_paged(self, _bedrock_quotas(self, applied="only")))


def sq_list_defaults(self: ServiceQuotasResponse) -> str:
    params = json.loads(self.body or "{}")
    if params.get("ServiceCode") != "bedrock":
        return _orig_list_defaults(self)
    return json.dumps(_paged(self, _bedrock_quotas(self, applied=False)))


def sq_get_service_quota(self: ServiceQuotasResponse) -> str:
    params = json.loads(self.body or "{}")
    if params.get("ServiceCode") != "bedrock":
        return _orig_get_service_quota(self)
    for q in _bedrock_quotas(self, applied=True):
        if q["QuotaCode"] == params.get("QuotaCode"):
            return json.dumps({"Quota": q})
    raise _no_such_quota(str(params.get("QuotaCode")))


def sq_request_increase(self: ServiceQuotasResponse) -> str:
    """Records the request as PENDING, as AWS does; the applied value does not change (tests
    set an applied value with the `/_bedbatch/quotas` control)."""
    params = json.loads(self.body or "{}")
    if params.get("ServiceCode") != "bedrock":
        raise JsonRESTError("NoSuchResourceException", "The request failed because the specified service does not exist.")
    code = params.get("QuotaCode")
    quota = next((q for q in _bedrock_quotas(self, applied=True) if q["QuotaCode"] == code), None)
    if quota is None:
        raise _no_such_quota(str(code))
    if not quota["Adjustable"]:
        raise JsonRESTError("IllegalArgumentException", f"The quota {code} is not adjustable.")
    desired = float(params.get("DesiredValue", 0))
    if desired <= quota["Value"]:
        raise JsonRESTError("IllegalArgumentException", "The desired value must be greater than the current value.")
    now = _now()
    return json.dumps(
        {
            "RequestedQuota": {
                "Id": uuid.uuid4().hex,
                "CaseId": "",
                "ServiceCode": "bedrock",
                "ServiceName": "Amazon Bedrock",
                "QuotaCode": code,
                "QuotaName": quota["QuotaName"],
                "DesiredValue": desired,
                "Status": "PENDING",
                "Created": now,
                "LastUpdated": now,
                "Requester": f"arn:aws:iam::{self.current_account}:root",
                "QuotaArn": quota["QuotaArn"],
                "GlobalQuota": False,
                "Unit": "None",
            }
        }
    )


def set_quota_value(account: str, region: str, code: str, value: float) -> None:
    from moto.servicequotas.models import servicequotas_backends

    _quota_values(servicequotas_backends[account][region])[code] = value


# --------------------------------------------------------------------------- install and run


def install() -> None:
    for fn in (
        create_model_invocation_job,
        get_model_invocation_job,
        stop_model_invocation_job,
        list_model_invocation_jobs,
        list_foundation_models,
        get_foundation_model,
        get_foundation_model_availability,
        list_inference_profiles,
        get_inference_profile,
    ):
        setattr(BedrockResponse, fn.__name__, fn)
    ServiceQuotasResponse.list_service_quotas = sq_list_service_quotas
    ServiceQuotasResponse.list_aws_default_service_quotas = sq_list_defaults
    ServiceQuotasResponse.get_service_quota = sq_get_service_quota
    ServiceQuotasResponse.request_service_quota_increase = sq_request_increase
    IAMRequestBase._create_aws_request = _create_aws_request_fixed
    OrganizationsResponse.organizations_backend = property(_organizations_backend_for_caller)  # type: ignore[assignment]
    STSResponse.get_caller_identity = sts_get_caller_identity
    DomainDispatcherApplication.__call__ = _dispatch


def main(argv: list[str] | None = None) -> None:
    install()
    moto.server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
