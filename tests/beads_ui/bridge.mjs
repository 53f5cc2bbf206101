// A pipe between a test and beads-ui's WebSocket: each line on stdin is a request sent as
// is; every message the server sends (replies and pushed events) is printed as one line.
// The test holds all the logic; this only speaks WebSocket, with the `ws` package that
// beads-ui itself depends on (so nothing else needs installing).
//
// usage: node bridge.mjs <beads-ui install dir> <ws://host:port/ws>
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const [installDir, url] = process.argv.slice(2);
const require = createRequire(
  path.join(installDir, 'node_modules', 'beads-ui', 'package.json')
);
const WebSocket = require('ws');

const ws = new WebSocket(url);
ws.on('error', (err) => {
  process.stderr.write(`bridge: ${err.message}\n`);
  process.exit(2);
});
ws.on('message', (data) => {
  process.stdout.write(String(data).replace(/\n/g, ' ') + '\n');
});
ws.on('close', () => process.exit(0));
ws.on('open', () => {
  process.stdout.write(JSON.stringify({ bridge: 'open' }) + '\n');
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim().length > 0) {
      ws.send(line);
    }
  });
  lines.on('close', () => ws.close());
});
