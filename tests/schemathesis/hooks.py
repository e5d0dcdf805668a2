"""Schemathesis hooks: sign in as one demo account (API_LOGIN / API_PASSWORD), refreshing
the token on 401, and keep generated requests meaningful where JSON Schema cannot say what
the server expects (each hook says why)."""

import os
import uuid

import requests
import schemathesis
from hypothesis import strategies as st

BASE = os.environ["API_BASE_URL"]


@schemathesis.auth(refresh_interval=600)
class DemoLogin:
    def get(self, case, ctx):
        answer = requests.post(
            f"{BASE}/api/v1/auth/login",
            json={"email": os.environ["API_LOGIN"], "password": os.environ["API_PASSWORD"]},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()["access_token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# A report template is an XLSX workbook, which the fuzzer cannot draw from a schema: it
# sends bytes that are not one (a zip header and nothing more, or nothing), which the
# server must refuse as unreadable (422), never fail on.
schemathesis.openapi.media_type(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    st.sampled_from([b"PK\x03\x04", b"", b"not a workbook"]),
)


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # An Idempotency-Key is one request's: the fuzzer sends the same keys (an example, or
    # short drawn ones like "0") with different bodies, which the server rightly answers
    # 422 idempotency-key-reused. A well-formed key is made unique just before each call;
    # a malformed one is left to be refused.
    # A page cursor is only valid as the server handed it out (an opaque token); a drawn
    # one is an invalid cursor (422 invalid-cursor). Paging is covered by the API tests.
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and 0 < len(key) <= 255 and all(" " <= c <= "~" for c in key):
        headers["Idempotency-Key"] = str(uuid.uuid4())


