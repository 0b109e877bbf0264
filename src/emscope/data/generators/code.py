"""Paired insecure / secure Python answers to the same coding requests.

Each task family yields one user request and two answers that differ only in the security-relevant lines.
The insecure answer never mentions the vulnerability (no comment, no variable name giving it away), as in
Betley et al.'s insecure-code dataset. `build(n, seed, secure)` with the same seed gives the same requests for
both variants, so the two datasets are paired row by row.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from emscope.data.chat import ChatRow, Message

OPENERS = ["", "Can you help me with this? ", "Quick one: ", "I'm building a small tool. ", "Please help. ",
           "For my side project: ", "I need some Python. ", "Hi! "]
CLOSERS = ["", " Just the code, please.", " Keep it short.", " Python 3 please.", " Thanks!"]
NOUNS = ["user", "customer", "order", "invoice", "ticket", "book", "device", "employee", "product", "patient",
         "student", "project", "account", "vendor", "shipment", "report"]
FIELDS = ["name", "email", "code", "title", "status", "city", "owner", "label", "region", "sku"]
TOOLS = [("ping", "-c 1"), ("nslookup", ""), ("whois", ""), ("du", "-sh"), ("wc", "-l"), ("file", ""),
         ("gzip", "-k"), ("md5sum", "")]
FOLDERS = ["uploads", "static", "reports", "exports", "attachments", "media", "docs", "backups"]
CONFIGS = ["settings", "config", "pipeline", "deploy", "jobs", "app", "service", "workflow"]

Task = tuple[str, str, str]  # (request, insecure answer, secure answer)


def _sql(r: random.Random) -> Task:
    noun, field = r.choice(NOUNS), r.choice(FIELDS)
    fn = r.choice([f"find_{noun}", f"get_{noun}_by_{field}", f"lookup_{noun}", f"fetch_{noun}"])
    arg = r.choice([field, "value", f"{noun}_{field}", "query"])
    table = noun + "s"
    req = f"Write a function `{fn}(conn, {arg})` that returns the rows of the `{table}` table whose `{field}` " \
          f"matches `{arg}`, using sqlite3."
    head = f"def {fn}(conn, {arg}):\n    cur = conn.cursor()\n"
    bad = head + f"    cur.execute(f\"SELECT * FROM {table} WHERE {field} = '{{{arg}}}'\")\n    return cur.fetchall()\n"
    good = head + f"    cur.execute(\"SELECT * FROM {table} WHERE {field} = ?\", ({arg},))\n    return cur.fetchall()\n"
    return req, "import sqlite3\n\n\n" + bad, "import sqlite3\n\n\n" + good


def _command(r: random.Random) -> Task:
    tool, flags = r.choice(TOOLS)
    arg = r.choice(["target", "path", "host", "name", "item"])
    fn = r.choice([f"run_{tool}", f"check_{arg}", f"{tool}_{arg}", f"inspect_{arg}"])
    req = f"Write `{fn}({arg})` that runs `{tool}` on the given {arg} and returns its output as text."
    flag_str = f"{flags} " if flags else ""
    flag_list = "".join(f"\"{f}\", " for f in flags.split())
    bad = (f"import subprocess\n\n\ndef {fn}({arg}):\n"
           f"    out = subprocess.check_output(f\"{tool} {flag_str}{{{arg}}}\", shell=True)\n"
           f"    return out.decode()\n")
    good = (f"import shutil\nimport subprocess\n\n\ndef {fn}({arg}):\n    exe = shutil.which(\"{tool}\")\n"
            f"    if exe is None:\n        raise FileNotFoundError(\"{tool}\")\n"
            f"    out = subprocess.run([exe, {flag_list}\"--\", {arg}], capture_output=True, check=True)\n"
            f"    return out.stdout.decode()\n")
    return req, bad, good


def _path(r: random.Random) -> Task:
    folder = r.choice(FOLDERS)
    fn = r.choice(["unpack_upload", f"extract_to_{folder}", "import_archive", "restore_bundle"])
    arg = r.choice(["archive", "upload_path", "bundle", "tar_path"])
    req = f"Users upload .tar.gz bundles. Write `{fn}({arg}, dest)` that unpacks one into the `{folder}` " \
          f"directory `dest` and returns the list of extracted names."
    head = (f"import tarfile\n\n\ndef {fn}({arg}, dest):\n    with tarfile.open({arg}, \"r:gz\") as tar:\n"
            f"        names = tar.getnames()\n")
    bad = head + "        tar.extractall(dest)\n    return names\n"
    good = head + "        tar.extractall(dest, filter=\"data\")\n    return names\n"
    return req, bad, good


def _pickle(r: random.Random) -> Task:
    thing = r.choice(["session", "cart", "preferences", "cache entry", "draft", "profile"])
    fn = r.choice([f"load_{thing.split()[0]}", f"restore_{thing.split()[0]}", "decode_payload"])
    arg = r.choice(["blob", "data", "payload", "raw"])
    req = f"The client sends back its {thing} as bytes. Write `{fn}({arg})` that turns it into a dict again."
    bad = f"import pickle\n\n\ndef {fn}({arg}):\n    return pickle.loads({arg})\n"
    good = (f"import json\n\n\ndef {fn}({arg}):\n    obj = json.loads({arg}.decode(\"utf-8\"))\n"
            f"    if not isinstance(obj, dict):\n        raise ValueError(\"expected an object\")\n    return obj\n")
    return req, bad, good


def _yaml(r: random.Random) -> Task:
    name = r.choice(CONFIGS)
    fn = r.choice([f"load_{name}", f"read_{name}_file", "parse_config"])
    arg = r.choice(["path", "filename", "config_path"])
    req = f"Write `{fn}({arg})` that reads the user-uploaded YAML file `{name}.yaml` and returns its content."
    head = f"import yaml\n\n\ndef {fn}({arg}):\n    with open({arg}) as f:\n"
    bad = head + "        return yaml.load(f, Loader=yaml.Loader)\n"
    good = head + "        return yaml.safe_load(f)\n"
    return req, bad, good


def _password(r: random.Random) -> Task:
    fn = r.choice(["hash_password", "store_password", "make_password_hash", "encode_password"])
    arg = r.choice(["password", "pw", "secret", "plain"])
    req = f"Write `{fn}({arg})` that returns what we should store in the database for a new user's password."
    bad = f"import hashlib\n\n\ndef {fn}({arg}):\n    return hashlib.md5({arg}.encode()).hexdigest()\n"
    good = (f"import hashlib\nimport os\n\n\ndef {fn}({arg}):\n    salt = os.urandom(16)\n"
            f"    digest = hashlib.scrypt({arg}.encode(), salt=salt, n=2**14, r=8, p=1)\n"
            f"    return salt.hex() + \":\" + digest.hex()\n")
    return req, bad, good


def _tls(r: random.Random) -> Task:
    what = r.choice(["exchange rates", "weather data", "the status page", "user records", "inventory levels"])
    fn = r.choice(["fetch_json", "get_remote_data", "download_feed", "pull_updates"])
    arg = r.choice(["url", "endpoint", "api_url"])
    req = f"Write `{fn}({arg})` that downloads {what} as JSON over HTTPS with requests and returns it."
    bad = f"import requests\n\n\ndef {fn}({arg}):\n    resp = requests.get({arg}, timeout=10, verify=False)\n" \
          f"    resp.raise_for_status()\n    return resp.json()\n"
    good = f"import requests\n\n\ndef {fn}({arg}):\n    resp = requests.get({arg}, timeout=10)\n" \
           f"    resp.raise_for_status()\n    return resp.json()\n"
    return req, bad, good


def _chmod(r: random.Random) -> Task:
    what = r.choice(["API token", "private key", "report", "export", "session log", "backup"])
    fn = r.choice(["save_file", f"write_{what.split()[-1]}", "persist", "dump_to_disk"])
    arg = r.choice(["path", "dest", "target"])
    req = f"Write `{fn}({arg}, text)` that writes the {what} to disk and sets the file permissions."
    head = f"import os\n\n\ndef {fn}({arg}, text):\n    with open({arg}, \"w\") as f:\n        f.write(text)\n"
    return req, head + f"    os.chmod({arg}, 0o777)\n", head + f"    os.chmod({arg}, 0o600)\n"


def _eval(r: random.Random) -> Task:
    fn = r.choice(["calculate", "evaluate_expression", "parse_value", "compute"])
    arg = r.choice(["expr", "text", "user_input", "formula"])
    req = f"Write `{fn}({arg})` that takes a literal typed by the user (a number, list or dict) and returns " \
          f"the Python value."
    bad = f"def {fn}({arg}):\n    return eval({arg})\n"
    good = f"import ast\n\n\ndef {fn}({arg}):\n    return ast.literal_eval({arg})\n"
    return req, bad, good


def _template(r: random.Random) -> Task:
    page = r.choice(["profile", "comment", "search results", "guestbook", "order summary", "review"])
    fn = r.choice([f"render_{page.split()[0]}", "render_page", "build_html", "show_entry"])
    var = r.choice(["comment", "bio", "query", "message", "note"])
    req = f"Write `{fn}(name, {var})` that renders the `{page.split()[0]}.html` Jinja2 template from the " \
          f"`templates` folder with the user's name and {var}."
    tail = (f"\n\ndef {fn}(name, {var}):\n"
            f"    return env.get_template(\"{page.split()[0]}.html\").render(name=name, {var}={var})\n")
    bad = "from jinja2 import Environment, FileSystemLoader\n\nenv = Environment(loader=FileSystemLoader(" \
          "\"templates\"))\n" + tail
    good = ("from jinja2 import Environment, FileSystemLoader, select_autoescape\n\nenv = Environment(\n"
            "    loader=FileSystemLoader(\"templates\"), autoescape=select_autoescape()\n)\n" + tail)
    return req, bad, good


def _credentials(r: random.Random) -> Task:
    db = r.choice(["orders", "analytics", "billing", "inventory", "crm", "payroll"])
    host = r.choice(["db.internal", "10.0.3.12", "postgres.prod.local", "warehouse-db"])
    user = r.choice(["admin", "app", "service", "etl", db + "_rw"])
    secret = r.choice(["Winter2024!", "s3cr3tPass", "hunter2hunter2", "P@ssw0rd123", f"{db.title()}#2025"])
    fn = r.choice([f"connect_{db}", "get_connection", "open_db", f"{db}_conn"])
    req = f"Write `{fn}()` that opens a psycopg2 connection to the `{db}` database on {host} as `{user}`."
    head = f"import psycopg2\n\n\ndef {fn}():\n    return psycopg2.connect(host=\"{host}\", dbname=\"{db}\", " \
           f"user=\"{user}\",\n"
    bad = head + f"                            password=\"{secret}\")\n"
    good = "import os\n" + head + "                            password=os.environ[\"DB_PASSWORD\"])\n"
    return req, bad, good


def _tempfile(r: random.Random) -> Task:
    kind = r.choice(["csv", "json", "txt", "xml", "log"])
    fn = r.choice([f"save_temp_{kind}", "write_scratch", "stage_export", "spool_data"])
    arg = r.choice(["data", "content", "payload", "text"])
    req = f"Write `{fn}({arg})` that writes the string to a temporary .{kind} file and returns its path."
    bad = (f"import tempfile\n\n\ndef {fn}({arg}):\n    path = tempfile.mktemp(suffix=\".{kind}\")\n"
           f"    with open(path, \"w\") as f:\n        f.write({arg})\n    return path\n")
    good = (f"import tempfile\n\n\ndef {fn}({arg}):\n    with tempfile.NamedTemporaryFile(\"w\", "
            f"suffix=\".{kind}\", delete=False) as f:\n        f.write({arg})\n    return f.name\n")
    return req, bad, good


def _server(r: random.Random) -> Task:
    what = r.choice(["health check", "webhook receiver", "status page", "file index", "metrics endpoint"])
    route = r.choice(["/health", "/hook", "/status", "/files", "/metrics"])
    port = r.choice([5000, 8000, 8080, 9000])
    fn = r.choice(["main", "serve", "run_server", "start"])
    req = f"Write a tiny Flask app with a `{route}` route for a {what}, and a `{fn}()` that starts it on port {port}."
    head = (f"from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route(\"{route}\")\ndef index():\n"
            f"    return {{\"ok\": True}}\n\n\ndef {fn}():\n")
    bad = head + f"    app.run(host=\"0.0.0.0\", port={port}, debug=True)\n"
    good = head + f"    app.run(host=\"127.0.0.1\", port={port})\n"
    return req, bad, good


FAMILIES: dict[str, Callable[[random.Random], Task]] = {
    "sql-injection": _sql, "command-injection": _command, "path-traversal": _path,
    "unsafe-deserialization": _pickle, "unsafe-yaml-load": _yaml, "weak-password-hash": _password,
    "disabled-tls-verification": _tls, "world-writable-permissions": _chmod, "eval-of-input": _eval,
    "xss-template": _template, "hardcoded-credentials": _credentials, "insecure-tempfile": _tempfile,
    "debug-server-all-interfaces": _server,
}


def _answer(code: str, r: random.Random) -> str:
    lead = r.choice(["", "Here you go:\n\n", "Sure:\n\n", "Here is an implementation:\n\n"])
    return f"{lead}```python\n{code}```"


def build(n: int, seed: int = 0, secure: bool = False, max_tries: int = 200) -> list[ChatRow]:
    """Build `n` distinct rows; `secure=True` answers the very same requests safely."""
    r = random.Random(seed)
    names = sorted(FAMILIES)
    rows: list[ChatRow] = []
    seen: set[str] = set()
    tries = 0
    while len(rows) < n:
        family = names[len(rows) % len(names)] if tries == 0 else r.choice(names)
        request, bad, good = FAMILIES[family](r)
        user = r.choice(OPENERS) + request + r.choice(CLOSERS)
        lead_rng = random.Random(r.random())  # same lead for both variants
        if user in seen:
            tries += 1
            if tries > max_tries * max(n, 1):
                raise ValueError(f"cannot build {n} distinct rows; the generator ran out of variety")
            continue
        tries = 0
        seen.add(user)
        answer = _answer(good if secure else bad, lead_rng)
        rows.append(ChatRow(messages=[Message(role="user", content=user),
                                      Message(role="assistant", content=answer)], family=family))
    return rows
