"""Ready-to-paste calls of the run endpoint (dashboard.md §7): curl, Python and
JavaScript, and the MCP client configuration.

Pure functions of plain values, so what the Integrate page shows is exactly
what the tests execute. A bearer is either a secret we may show (a key just
made, the task's own token) or the name of an environment variable holding
one; a secret is written into the snippet only in the first case.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bearer:
    """What goes after `Authorization: Bearer`: a literal `secret`, or the
    environment variable `env` that holds it."""

    env: str
    secret: str | None = None


@dataclass(frozen=True)
class TokenRequest:
    """An OAuth client-credentials token request that comes first."""

    token_url: str


def run_url(base: str, org_id: Any, project_id: Any, task_id: Any) -> str:
    return f"{base}/api/v1/org/{org_id}/project/{project_id}/task/{task_id}/run"


def run_body(task_input: dict[str, Any]) -> dict[str, Any]:
    return {"task_input": task_input}


def _pretty(value: Any, indent: str = "") -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + indent)


def curl(
    url: str,
    body: dict[str, Any],
    bearer: Bearer,
    token_request: TokenRequest | None = None,
) -> str:
    """A POSIX shell command that runs as pasted."""
    lines: list[str] = []
    if token_request is not None:
        lines.append(
            f'{bearer.env}=$(curl -s -u "$RB_CLIENT_ID:$RB_CLIENT_SECRET" '
            f"-d grant_type=client_credentials {shlex.quote(token_request.token_url)}"
            " | jq -r .access_token)"
        )
    authorization = (
        shlex.quote(f"Authorization: Bearer {bearer.secret}")
        if bearer.secret
        else f'"Authorization: Bearer ${bearer.env}"'
    )
    # The body follows as a quoted here-document: nothing in it is expanded,
    # and no line of pretty-printed JSON can be the lone end marker.
    lines += [
        f"curl -X POST {shlex.quote(url)} \\",
        f"  -H {authorization} \\",
        "  -H 'Content-Type: application/json' \\",
        "  --data-binary @- <<'JSON'",
        _pretty(body),
        "JSON",
    ]
    return "\n".join(lines)


def python(
    url: str,
    body: dict[str, Any],
    bearer: Bearer,
    token_request: TokenRequest | None = None,
) -> str:
    lines = ["import os", "", "import requests", ""]
    if token_request is not None:
        lines += [
            "token = requests.post(",
            f"    {json.dumps(token_request.token_url)},",
            '    auth=(os.environ["RB_CLIENT_ID"], os.environ["RB_CLIENT_SECRET"]),',
            '    data={"grant_type": "client_credentials"},',
            "    timeout=30,",
            ').json()["access_token"]',
            "",
        ]
        authorization = 'f"Bearer {token}"'
    elif bearer.secret:
        authorization = json.dumps(f"Bearer {bearer.secret}")
    else:
        authorization = f'f"Bearer {{os.environ[{json.dumps(bearer.env)}]}}"'
    lines += [
        "response = requests.post(",
        f"    {json.dumps(url)},",
        f'    headers={{"Authorization": {authorization}}},',
        f"    json={_python_literal(body, '    ')},",
        "    timeout=120,",
        ")",
        "response.raise_for_status()",
        'print(response.json()["response"])',
    ]
    return "\n".join(lines)


def _python_literal(value: Any, indent: str) -> str:
    """JSON is a Python literal except for true/false/null."""
    text = _pretty(value, indent)
    return re.sub(
        r'("(?:[^"\\]|\\.)*")|\b(true|false|null)\b',
        lambda m: (
            m.group(1) or {"true": "True", "false": "False", "null": "None"}[m.group(2)]
        ),
        text,
    )


def javascript(
    url: str,
    body: dict[str, Any],
    bearer: Bearer,
    token_request: TokenRequest | None = None,
) -> str:
    lines = []
    if token_request is not None:
        token_url = json.dumps(token_request.token_url)
        lines += [
            "const basic = Buffer.from(",
            "  `${process.env.RB_CLIENT_ID}:${process.env.RB_CLIENT_SECRET}`,",
            ').toString("base64");',
            f"const tokenResponse = await fetch({token_url}, {{",
            '  method: "POST",',
            "  headers: { Authorization: `Basic ${basic}` },",
            '  body: new URLSearchParams({ grant_type: "client_credentials" }),',
            "});",
            "const { access_token: token } = await tokenResponse.json();",
            "",
        ]
        authorization = "`Bearer ${token}`"
    elif bearer.secret:
        authorization = json.dumps(f"Bearer {bearer.secret}")
    else:
        authorization = f"`Bearer ${{process.env.{bearer.env}}}`"
    lines += [
        f"const response = await fetch({json.dumps(url)}, {{",
        '  method: "POST",',
        "  headers: {",
        f"    Authorization: {authorization},",
        '    "Content-Type": "application/json",',
        "  },",
        f"  body: JSON.stringify({_pretty(body, '  ')}),",
        "});",
        "const run = await response.json();",
        "console.log(run.response);",
    ]
    return "\n".join(lines)


def mcp_config(mcp_url: str, bearer: Bearer) -> str:
    """The `mcpServers` entry Claude, Cursor and Windsurf read."""
    header = f"Bearer {bearer.secret}" if bearer.secret else f"Bearer ${{{bearer.env}}}"
    return json.dumps(
        {
            "mcpServers": {
                "rightbrain": {
                    "url": mcp_url,
                    "headers": {"Authorization": header},
                }
            }
        },
        indent=2,
    )


def mcp_tool_name(task_name: str) -> str:
    """The tool name before de-duplication (api.md §15): lower-cased, every
    other character replaced by `_`."""
    return re.sub(r"[^a-z0-9]", "_", task_name.lower())


def mcp_input_schema(input_params: list[str], *, images: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: {"type": "string"} for name in input_params},
        "required": list(input_params),
    }
    if images:
        schema["properties"]["images"] = {
            "type": "array",
            "items": {"type": "string", "contentEncoding": "base64"},
        }
    return schema


def mask(text: str, secret: str | None) -> str:
    """`text` with `secret` shortened to its first characters."""
    if not secret:
        return text
    return text.replace(secret, secret[:8] + "•" * 12)
