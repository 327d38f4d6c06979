"""peer_fastapi.py - the seed's endpoint in FastAPI + httpx, for
bench/gateway.sh: GET /path awaits GET UPSTREAM/path through one shared
httpx.AsyncClient and answers with its status, content type and body.

    UPSTREAM=http://127.0.0.1:8081 python3 -m uvicorn peer_fastapi:app --port 8082
"""
import os

import httpx
from fastapi import FastAPI, Response

UPSTREAM = os.environ["UPSTREAM"]
app = FastAPI()
client = None


# on_event rather than lifespan=: Debian 12's FastAPI (0.92) predates it.
@app.on_event("startup")
async def open_client():
    global client
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=1024))


@app.on_event("shutdown")
async def close_client():
    await client.aclose()


@app.get("/{path:path}")
async def endpoint(path: str):
    r = await client.get(f"{UPSTREAM}/{path}")
    return Response(r.content, r.status_code, media_type=r.headers.get("content-type"))
