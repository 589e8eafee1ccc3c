"""A minimal inference server, as a user might write one instead of Roundhouse (npm run bench:inference).

FastAPI on uvicorn, one process, onnxruntime with its default threads: POST /inference/{name} with a token and a
JSON body {"model_input": nested lists} (or little-endian float32 in base64 with its "shape") answers
{"inference": argmax per row, "outputs": the raw output}, as Roundhouse's NONE method does. Usage: python python_server.py PORT TOKEN name=model.onnx [name=model.onnx ...]
"""

import base64
import sys

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI, HTTPException, Request

port, token = int(sys.argv[1]), sys.argv[2]
sessions = {}
for spec in sys.argv[3:]:
    name, path = spec.split("=", 1)
    sessions[name] = ort.InferenceSession(path, providers=["CPUExecutionProvider"])

app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/inference/{name}")
async def infer(name: str, request: Request):
    if request.headers.get("authorization") != f"Token {token}":
        raise HTTPException(status_code=401, detail="Invalid token.")
    session = sessions.get(name)
    if session is None:
        raise HTTPException(status_code=404, detail="No such model.")
    body = await request.json()
    if "shape" in body:
        # Little-endian float32 in base64, as Roundhouse also takes it.
        x = np.frombuffer(base64.b64decode(body["model_input"]), dtype="<f4").reshape(body["shape"])
    else:
        x = np.asarray(body["model_input"], dtype=np.float32)
    outputs = session.run(None, {session.get_inputs()[0].name: x})[0]
    return {"inference": outputs.argmax(axis=1).tolist(), "outputs": outputs.tolist()}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
