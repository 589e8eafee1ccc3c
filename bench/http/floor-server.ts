import http from 'node:http';

/**
 * The HTTP floor (`tsx bench/http/floor-server.ts PORT`): a plain Node.js server that reads each request's whole body
 * and answers a small JSON, doing nothing else. What it serves a second with a case's body is the most any server on
 * this machine could, before it decodes a number or runs a model; the benchmark reports it beside the direct
 * onnxruntime baseline, whose samples a second no server over HTTP can approach when a request's bytes take longer
 * to move than its run takes.
 */
const port = Number(process.argv[2]);
const answer = Buffer.from(JSON.stringify({ inference: [0], outputs: [[0]] }));

const server = http.createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    res.writeHead(bytes > 0 ? 200 : 400, { 'Content-Type': 'application/json', 'Content-Length': answer.length });
    res.end(answer);
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`floor server listening on ${port}\n`));
