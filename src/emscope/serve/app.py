"""The FastAPI app (`create_app`) and the uvicorn runner (`serve`).

Endpoints: `GET /v1/models`, `GET /v1/models/{id}`, `POST /v1/chat/completions` (a `model` other than the served
name is a 404 `model_not_found`), `GET /health`. No API key is
required; any `Authorization` header is accepted and never read or logged (uvicorn's access log records only the
request line). Errors use OpenAI's body, `{"error": {"message", "type", "param", "code"}}`: invalid or unsupported
requests are 400, so the `openai` SDK raises `BadRequestError`.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import time
from pathlib import Path

from emscope.errors import InputError
from emscope.serve.engine import ChatEngine, RequestError
from emscope.serve.schemas import ChatCompletion, ChatCompletionRequest, ModelCard, ModelList

log = logging.getLogger("emscope.serve")


def _error(status: int, message: str, kind: str = "invalid_request_error", param: str | None = None,
           code: str | None = None):
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status,
                        content={"error": {"message": message, "type": kind, "param": param, "code": code}})


def _validation_message(errors) -> tuple[str, str | None]:
    """One readable line from pydantic errors (`field.path: problem; ...`) and the first field named."""
    parts, param = [], None
    for err in errors:
        loc = [str(x) for x in err.get("loc", ()) if x != "body"]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
        param = param or (".".join(loc) or None)
    return "invalid request: " + "; ".join(parts), param


def create_app(model, tokenizer, model_name: str):
    """A FastAPI app serving `model` (with its `tokenizer`, which needs a chat template) as `model_name`."""
    from fastapi import FastAPI, HTTPException
    from fastapi.exceptions import RequestValidationError

    if not getattr(tokenizer, "chat_template", None):
        raise InputError(f"{model_name}: the tokenizer has no chat template; serve a chat (instruct) model")
    engine = ChatEngine(model, tokenizer)
    created = int(time.time())
    card = ModelCard(id=model_name, created=created)
    app = FastAPI(title="emscope serve", summary=f"OpenAI-compatible chat completions for {model_name}",
                  docs_url=None, redoc_url=None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request, exc: RequestValidationError):
        message, param = _validation_message(exc.errors())
        return _error(400, message, param=param)

    @app.exception_handler(RequestError)
    async def _unservable(_request, exc: RequestError):
        return _error(400, exc.message, param=exc.param, code=exc.code)

    @app.exception_handler(HTTPException)
    async def _http(_request, exc: HTTPException):
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return _error(exc.status_code, str(exc.detail), kind=kind)

    @app.exception_handler(Exception)
    async def _internal(_request, exc: Exception):
        log.exception("chat completion failed")
        return _error(500, f"internal error: {type(exc).__name__}", kind="server_error")

    @app.get("/health")
    def health() -> dict:
        """Liveness: the model is loaded."""
        return {"status": "ok", "model": model_name}

    @app.get("/v1/models")
    def list_models() -> ModelList:
        """The one served model."""
        return ModelList(data=[card])

    @app.get("/v1/models/{model_id:path}")
    def get_model(model_id: str) -> ModelCard:
        """The served model, by its name."""
        if model_id != model_name:
            raise HTTPException(404, f"model {model_id!r} is not served here; this server serves {model_name!r}")
        return card

    @app.post("/v1/chat/completions")
    def chat_completions(req: ChatCompletionRequest) -> ChatCompletion:
        """One chat completion of the served model (`model` may be left out; another name is a 404, as OpenAI
        answers for a model that does not exist, so a misspelt judge model fails instead of silently being
        answered by this one)."""
        if req.model is not None and req.model != model_name:
            return _error(404, f"The model `{req.model}` does not exist here; this server serves `{model_name}`",
                          param="model", code="model_not_found")
        return engine.complete(req, model_name)

    return app


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(spec: str, adapter: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000,
          name: str | None = None, log_level: str = "info") -> None:
    """Load `spec` (with an optional PEFT `adapter`) and serve it on `host:port` until interrupted."""
    import uvicorn

    from emscope.models import load_model

    model, tokenizer = load_model(spec, adapter=adapter)
    name = name or (spec if adapter is None else f"{spec}+{Path(adapter).name}")
    app = create_app(model, tokenizer, name)
    if not _is_loopback(host):
        print(f"warning: serving on {host} without authentication: anyone who can reach it can use the model",
              file=sys.stderr)
    print(f"serving {name} at http://{host}:{port}/v1 (OpenAI-compatible; Ctrl-C to stop)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
