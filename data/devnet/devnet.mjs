#!/usr/bin/env node
// Kiln's local Ethereum devnet: anvil on 127.0.0.1 with the GNT test token and the batch
// payment contract deployed, and the given accounts funded with ETH and GNT.
//
//   node data/devnet/devnet.mjs [--port N] [--fund ADDR[:ETH[:GNT]]]... [--json]
//                               [--state-file FILE]
//
// It prints the endpoints (one JSON object on one line with --json) and keeps running until
// SIGINT, SIGTERM or SIGHUP, or until its standard input closes when that is a pipe or a
// terminal, so that a parent process can tie the devnet's life to its own. On exit it stops
// anvil and removes the state file it wrote. Errors print one line and exit with status 1.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';
const CHAIN_ID = 31337;
const DEFAULT_FUND_ETH = '100';
const DEFAULT_FUND_GNT = '1000';
const READY_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 3000;

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const CONTRACTS_DIR = path.join(HERE, 'contracts');
const CONTRACT_FILES = ['GNTTestToken.sol', 'KilnBatchPay.sol'];
const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'kiln-devnet');
const require = createRequire(path.join(ROOT, 'package.json'));

const USAGE = `Usage: node data/devnet/devnet.mjs [OPTION]...
Start a local Ethereum devnet (anvil, chain id ${CHAIN_ID}) on ${HOST} with the GNT test token
and the KilnBatchPay contract deployed, fund accounts, print the endpoints and keep running.

  --port N                    listen on port N (default: a free port)
  --fund ADDR[:ETH[:GNT]]     send ETH and mint GNT to ADDR (defaults: ${DEFAULT_FUND_ETH} ETH,
                              ${DEFAULT_FUND_GNT} GNT); may be repeated; amounts are decimal numbers
  --json                      print one JSON object on one line instead of readable lines
  --state-file FILE           also write that JSON object to FILE (removed on exit)
  -h, --help                  show this help

Stops on SIGINT, SIGTERM, SIGHUP, or when standard input (a pipe or a terminal) closes.`;

class DevnetError extends Error {}

let anvil = null;           // the anvil child process
let anvilExited = false;
let stateFileWritten = null;
let stopping = false;

function fail(message) {
  throw new DevnetError(message);
}

function parseArgs(argv) {
  const opts = { port: 0, funds: [], json: false, stateFile: null };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const takeValue = () => {
      if (value !== null)
        return value;
      if (i + 1 >= argv.length)
        fail(`option ${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '-h':
      case '--help':
        opts.help = true;
        break;
      case '--json':
        opts.json = true;
        break;
      case '--port': {
        const text = takeValue();
        const port = Number(text);
        if (!/^[0-9]+$/.test(text) || port < 1 || port > 65535)
          fail(`--port must be a number from 1 to 65535, not “${text}”`);
        opts.port = port;
        break;
      }
      case '--fund':
        opts.funds.push(takeValue());
        break;
      case '--state-file':
        opts.stateFile = path.resolve(takeValue());
        break;
      default:
        fail(`unknown option “${argv[i]}” (see --help)`);
    }
  }
  return opts;
}

function parseFund(ethers, spec) {
  const [addr, eth = DEFAULT_FUND_ETH, gnt = DEFAULT_FUND_GNT, ...rest] = spec.split(':');
  if (rest.length > 0)
    fail(`--fund “${spec}” has too many fields; expected ADDR[:ETH[:GNT]]`);
  if (!ethers.isAddress(addr) || !addr.startsWith('0x'))
    fail(`--fund “${spec}”: “${addr}” is not an Ethereum address`);
  const amount = (text, what) => {
    if (!/^[0-9]+(\.[0-9]+)?$/.test(text))
      fail(`--fund “${spec}”: the ${what} amount “${text}” is not a decimal number`);
    try {
      return ethers.parseUnits(text, 18);
    } catch {
      fail(`--fund “${spec}”: the ${what} amount “${text}” has more than 18 decimals`);
    }
  };
  return {
    address: ethers.getAddress(addr.toLowerCase()),
    eth_wei: amount(eth, 'ETH'),
    gnt_wei: amount(gnt, 'GNT'),
  };
}

// The native anvil binary from the platform's npm package, so that no wrapper process
// stands between this script and anvil; anvil on PATH otherwise.
function findAnvil() {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  if (arch) {
    try {
      const bin = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/${exe}`);
      if (fs.existsSync(bin))
        return bin;
    } catch {
      // Not installed for this platform; try PATH.
    }
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const bin = path.join(dir || '.', exe);
    try {
      fs.accessSync(bin, fs.constants.X_OK);
      return bin;
    } catch {
      // Keep looking.
    }
  }
  fail('anvil is not installed: run build-aux/setup-npm.sh from the repository root');
}

function listen(port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: HOST, port, exclusive: true }, () => {
      const bound = server.address().port;
      server.close(() => resolve(bound));
    });
  });
}

async function choosePort(port) {
  try {
    return await listen(port);
  } catch (err) {
    if (err.code === 'EADDRINUSE')
      fail(`port ${port} on ${HOST} is already in use`);
    fail(`cannot listen on ${HOST}:${port}: ${err.message}`);
  }
}

function startAnvil(bin, port) {
  const args = ['--host', HOST, '--port', String(port), '--chain-id', String(CHAIN_ID), '--silent'];
  let cmd = bin;
  // Where util-linux's setpriv exists, anvil also dies when this process is killed outright.
  if (process.platform === 'linux' && fs.existsSync('/usr/bin/setpriv')) {
    args.unshift('--pdeathsig', 'SIGKILL', '--', bin);
    cmd = '/usr/bin/setpriv';
  }
  const child = spawn(cmd, args, {
    detached: true,                       // its own process group, stopped as a whole
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderrText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    if (child.stderrText.length < 4096)
      child.stderrText += chunk;
  });
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      anvilExited = true;
      resolve({ code, signal });
    });
  });
  child.once('error', (err) => {
    child.spawnError = err;
  });
  return child;
}

function anvilFailure(child, what) {
  if (child.spawnError)
    return `cannot start anvil: ${child.spawnError.message}`;
  const lines = child.stderrText.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const detail = lines.length > 0 ? `: ${lines[lines.length - 1]}` : '';
  return `anvil ${what}${detail}`;
}

function rpc(url, method, params = []) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
    const req = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: 2000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        try {
          const reply = JSON.parse(text);
          if (reply.error)
            reject(new Error(reply.error.message));
          else
            resolve(reply.result);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function waitForRpc(child, url) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (anvilExited || child.spawnError) {
      await Promise.race([child.exited, new Promise((r) => setTimeout(r, 200))]);
      fail(anvilFailure(child, 'exited before it was ready'));
    }
    try {
      const id = Number(await rpc(url, 'eth_chainId'));
      if (id !== CHAIN_ID)
        fail(`the node on ${url} has chain id ${id}, not ${CHAIN_ID}`);
      return;
    } catch (err) {
      if (err instanceof DevnetError)
        throw err;
    }
    if (Date.now() > deadline)
      fail(`anvil did not answer on ${url} within ${READY_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function writeFileAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644 });
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // Nothing to clean.
    }
    fail(`cannot write ${file}: ${err.message}`);
  }
}

// Compiled artifacts, cached by the hash of the compiler version, settings and sources.
async function compileContracts() {
  const solcPkg = JSON.parse(fs.readFileSync(require.resolve('solc/package.json'), 'utf8'));
  const input = {
    language: 'Solidity',
    sources: {},
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  for (const file of CONTRACT_FILES) {
    let content;
    try {
      content = fs.readFileSync(path.join(CONTRACTS_DIR, file), 'utf8');
    } catch (err) {
      fail(`cannot read contract source ${file}: ${err.message}`);
    }
    input.sources[file] = { content };
  }
  const inputText = JSON.stringify(input);
  const key = createHash('sha256').update(`solc ${solcPkg.version}\n`).update(inputText)
    .digest('hex');
  const cacheFile = path.join(CACHE_DIR, `${key}.json`);

  try {
    const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
    if (cached.GNTTestToken?.bytecode && cached.KilnBatchPay?.bytecode)
      return cached;
  } catch {
    // Not cached yet, or unreadable: compile.
  }

  const solc = require('solc');
  const output = JSON.parse(solc.compile(inputText));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    const first = (errors[0].formattedMessage || errors[0].message).split('\n')[0];
    fail(`contracts do not compile: ${first}`);
  }
  const artifacts = {};
  for (const file of CONTRACT_FILES) {
    const name = path.basename(file, '.sol');
    const contract = output.contracts?.[file]?.[name];
    if (!contract?.evm?.bytecode?.object)
      fail(`the compiler produced no bytecode for ${name}`);
    artifacts[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  }
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(artifacts));
    fs.renameSync(tmp, cacheFile);
  } catch {
    // A read-only tree only costs a compile next time.
  }
  return artifacts;
}

async function deploy(ethers, url, artifacts, funds) {
  const provider = new ethers.JsonRpcProvider(url, CHAIN_ID, {
    staticNetwork: true,
    pollingInterval: 50,
    cacheTimeout: -1,
    batchMaxCount: 1,
  });
  const deployer = await provider.getSigner(0);
  const deployerAddress = await deployer.getAddress();

  // The deployer's first two transactions, so the addresses are the same on every run.
  const Token = new ethers.ContractFactory(artifacts.GNTTestToken.abi,
    artifacts.GNTTestToken.bytecode, deployer);
  const Batch = new ethers.ContractFactory(artifacts.KilnBatchPay.abi,
    artifacts.KilnBatchPay.bytecode, deployer);
  const token = await Token.deploy();
  await token.waitForDeployment();
  const batch = await Batch.deploy();
  await batch.waitForDeployment();

  const pending = [];
  for (const fund of funds) {
    if (fund.eth_wei > 0n)
      pending.push(await deployer.sendTransaction({ to: fund.address, value: fund.eth_wei }));
    if (fund.gnt_wei > 0n)
      pending.push(await token.mint(fund.address, fund.gnt_wei));
  }
  for (const tx of pending) {
    const receipt = await tx.wait();
    if (receipt.status !== 1)
      fail(`funding transaction ${tx.hash} failed`);
  }
  const block = Number(await provider.send('eth_blockNumber', []));
  provider.destroy();

  return {
    token: await token.getAddress(),
    batch: await batch.getAddress(),
    deployer: ethers.getAddress(deployerAddress),
    block,
  };
}

function stopAnvil() {
  if (!anvil || anvilExited || anvil.pid === undefined)
    return Promise.resolve();
  try {
    process.kill(-anvil.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-anvil.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, STOP_TIMEOUT_MS);
  return anvil.exited.finally(() => clearTimeout(timer));
}

function removeStateFile() {
  if (!stateFileWritten)
    return;
  try {
    const text = fs.readFileSync(stateFileWritten, 'utf8');
    if (JSON.parse(text).pid === process.pid)
      fs.unlinkSync(stateFileWritten);
  } catch {
    // Gone already, or replaced by another devnet: leave it.
  }
  stateFileWritten = null;
}

async function shutdown(status) {
  if (stopping)
    return;
  stopping = true;
  removeStateFile();
  await stopAnvil();
  process.exit(status);
}

// Last resort if the process exits on another path: never leave anvil behind.
process.on('exit', () => {
  if (anvil && !anvilExited && anvil.pid !== undefined) {
    try {
      process.kill(-anvil.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  removeStateFile();
});

function watchStdin() {
  let stat;
  try {
    stat = fs.fstatSync(0);
  } catch {
    return;
  }
  // /dev/null or a regular file would end at once: only a pipe, socket or terminal ties the
  // devnet's life to whoever holds the other end.
  if (!(stat.isFIFO() || stat.isSocket() || process.stdin.isTTY))
    return;
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}

function printReadable(ethers, info) {
  const units = (wei) => ethers.formatUnits(wei, 18).replace(/\.0$/, '');
  const lines = [
    `rpc_url     ${info.rpc_url}`,
    `chain_id    ${info.chain_id}`,
    `token       ${info.token} (${info.token_symbol}, ${info.token_decimals} decimals)`,
    `batch_pay   ${info.batch_pay}`,
    `deployer    ${info.deployer}`,
  ];
  for (const f of info.funded) {
    lines.push(`funded      ${f.address} ${units(f.eth_wei)} ETH ${units(f.gnt_wei)} GNT`);
  }
  if (info.state_file)
    lines.push(`state_file  ${info.state_file}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  const started = Date.now();
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(sig, () => shutdown(0));

  let ethers;
  try {
    ethers = await import('ethers');
    require.resolve('solc/package.json');
  } catch {
    fail('the devnet\'s npm packages are missing: '
      + 'run build-aux/setup-npm.sh from the repository root');
  }

  const funds = opts.funds.map((spec) => parseFund(ethers, spec));
  const bin = findAnvil();
  const port = await choosePort(opts.port);
  const url = `http://${HOST}:${port}`;

  anvil = startAnvil(bin, port);
  const compiled = compileContracts();
  compiled.catch(() => {});   // Reported below, after anvil is known to be up.
  await waitForRpc(anvil, url);
  const artifacts = await compiled;
  const deployed = await deploy(ethers, url, artifacts, funds);

  const info = {
    rpc_url: url,
    host: HOST,
    port,
    chain_id: CHAIN_ID,
    token: deployed.token,
    token_name: 'Golem Network Token (test)',
    token_symbol: 'GNT',
    token_decimals: 18,
    batch_pay: deployed.batch,
    deployer: deployed.deployer,
    block_number: deployed.block,
    funded: funds.map((f) => ({
      address: f.address,
      eth_wei: f.eth_wei.toString(),
      gnt_wei: f.gnt_wei.toString(),
    })),
    pid: process.pid,
    anvil_pid: anvil.pid,
    startup_ms: Date.now() - started,
  };
  if (opts.stateFile) {
    info.state_file = opts.stateFile;
    writeFileAtomic(opts.stateFile, `${JSON.stringify(info, null, 2)}\n`);
    stateFileWritten = opts.stateFile;
  }
  if (opts.json)
    process.stdout.write(`${JSON.stringify(info)}\n`);
  else
    printReadable(ethers, info);

  watchStdin();
  // Anvil dying on its own ends the devnet too.
  anvil.exited.then(({ code, signal }) => {
    if (stopping)
      return;
    process.stderr.write(`devnet: error: ${anvilFailure(anvil,
      `stopped unexpectedly (${signal ? `signal ${signal}` : `status ${code}`})`)}\n`);
    shutdown(1);
  });
}

main().catch((err) => {
  const message = err instanceof DevnetError ? err.message
    : (err?.shortMessage || err?.message || String(err));
  process.stderr.write(`devnet: error: ${message.split('\n')[0]}\n`);
  shutdown(1);
});
