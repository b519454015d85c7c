// The local devnet: data/devnet/devnet.mjs started as a child process, then checked over
// JSON-RPC with ethers: the chain, the GNT test token, funding, transfers, KilnBatchPay and
// a clean shutdown that leaves no anvil behind.
//
//   node --test --test-reporter=tap tests/devnet/test-devnet.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ethers } from 'ethers';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEVNET = path.join(ROOT, 'data', 'devnet', 'devnet.mjs');
const START_TIMEOUT_MS = 60000;
const GNT = (text) => ethers.parseUnits(text, 18);

// The interfaces as Kiln's wallet sees them, independent of the compiled artifacts.
const TOKEN_ABI = [
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address) view returns (uint256)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function owner() view returns (address)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
  'function transferFrom(address from, address to, uint256 value) returns (bool)',
  'function mint(address to, uint256 value)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
];
const BATCH_ABI = [
  'function MAX_PAYEES() view returns (uint256)',
  'function payBatch(address token, address[] payees, uint256[] amounts, bytes32 ref)',
  'event BatchPaid(address indexed payer, bytes32 indexed ref, uint256 total, uint256 count)',
];

const children = new Set();
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-devnet-test-'));

// Starts devnet.mjs and resolves with its JSON once it is ready.
function startDevnet(args) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [DEVNET, '--json', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.exitStatus = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr += chunk; });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`devnet did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const nl = stdout.indexOf('\n');
      if (nl < 0)
        return;
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      try {
        resolve({ child, info: JSON.parse(stdout.slice(0, nl)), ms, stderr: () => stderr });
      } catch (err) {
        reject(err);
      }
    });
    child.exitStatus.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`devnet exited (${code ?? signal}) before it was ready: ${stderr.trim()}`));
    });
  });
}

// Runs devnet.mjs to completion, for the error paths.
function runDevnet(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEVNET, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function rpcAnswers(url) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(2000),
    });
    await res.text();
    return true;
  } catch {
    return false;
  }
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code !== 'ESRCH';
  }
}

async function until(what, check, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline)
      assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function connectRefused(host, port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', (err) => resolve(err.code === 'ECONNREFUSED'));
  });
}

function randomAddresses(n) {
  return Array.from({ length: n }, () => ethers.Wallet.createRandom().address);
}

// Shared by the tests below, which run in order.
let devnet;
let info;
let provider;
let token;
let batch;
let alice;   // default funding: 100 ETH, 1000 GNT
let bob;     // 5 ETH, 250.5 GNT
let carol;   // 0.25 ETH, no GNT
const stateFile = path.join(tmpDir, 'devnet.json');
const gas = {};

before(async () => {
  alice = ethers.Wallet.createRandom();
  bob = ethers.Wallet.createRandom();
  carol = ethers.Wallet.createRandom();
  devnet = await startDevnet([
    '--fund', alice.address,
    '--fund', `${bob.address.toLowerCase()}:5:250.5`,
    '--fund', `${carol.address}:0.25:0`,
    '--state-file', stateFile,
  ]);
  info = devnet.info;
  provider = new ethers.JsonRpcProvider(info.rpc_url, info.chain_id,
    // No response cache: balances and nonces are read right after each transaction.
    { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
  alice = alice.connect(provider);
  bob = bob.connect(provider);
  carol = carol.connect(provider);
});

after(async () => {
  provider?.destroy();
  for (const child of children)
    child.kill('SIGKILL');
  fs.rmSync(tmpDir, { recursive: true, force: true });
});

test('devnet starts on loopback and reports its endpoints', async (t) => {
  t.diagnostic(`devnet startup: ${devnet.ms.toFixed(0)} ms from spawn to JSON ` +
    `(${info.startup_ms} ms inside devnet.mjs)`);
  assert.match(info.rpc_url, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
  assert.equal(info.rpc_url, `http://127.0.0.1:${info.port}`);
  assert.equal(info.chain_id, 31337);
  assert.equal(await provider.send('eth_chainId', []), '0x7a69');
  assert.equal(await provider.send('net_version', []), '31337');

  // Bound to 127.0.0.1 only: another loopback address finds nothing listening.
  assert.equal(await connectRefused('127.0.0.2', info.port), true);

  for (const addr of [info.token, info.batch_pay, info.deployer])
    assert.equal(addr, ethers.getAddress(addr), `${addr} is checksummed`);
  assert.notEqual(await provider.getCode(info.token), '0x');
  assert.notEqual(await provider.getCode(info.batch_pay), '0x');
  assert.equal(info.deployer, (await provider.send('eth_accounts', []))
    .map((a) => ethers.getAddress(a))[0]);
  assert.ok(processAlive(info.anvil_pid));

  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  assert.deepEqual(state, { ...info, state_file: stateFile });
});

test('token is GNT with 18 decimals, owned by the deployer', async () => {
  token = new ethers.Contract(info.token, TOKEN_ABI, provider);
  assert.equal(await token.name(), 'Golem Network Token (test)');
  assert.equal(await token.symbol(), 'GNT');
  assert.equal(await token.decimals(), 18n);
  assert.equal(await token.owner(), info.deployer);
  assert.equal(info.token_symbol, 'GNT');
  assert.equal(info.token_decimals, 18);
  assert.equal(await token.totalSupply(), GNT('1000') + GNT('250.5'));
  // Only the owner mints.
  await assert.rejects(token.connect(alice).mint.staticCall(alice.address, 1n),
    /GNT: caller is not the owner/);
});

test('funded balances are exact', async () => {
  assert.equal(await provider.getBalance(alice.address), 100n * 10n ** 18n);
  assert.equal(await token.balanceOf(alice.address), 1000n * 10n ** 18n);
  assert.equal(await provider.getBalance(bob.address), 5n * 10n ** 18n);
  assert.equal(await token.balanceOf(bob.address), 2505n * 10n ** 17n);
  assert.equal(await provider.getBalance(carol.address), 25n * 10n ** 16n);
  assert.equal(await token.balanceOf(carol.address), 0n);
  assert.deepEqual(info.funded, [
    { address: alice.address, eth_wei: '100000000000000000000', gnt_wei: '1000000000000000000000' },
    { address: bob.address, eth_wei: '5000000000000000000', gnt_wei: '250500000000000000000' },
    { address: carol.address, eth_wei: '250000000000000000', gnt_wei: '0' },
  ]);
});

test('a transfer moves exact amounts', async (t) => {
  const amount = GNT('12.345678901234567891');
  const aliceGnt = await token.balanceOf(alice.address);
  const bobGnt = await token.balanceOf(bob.address);
  const aliceEth = await provider.getBalance(alice.address);
  const bobEth = await provider.getBalance(bob.address);

  const receipt = await (await token.connect(alice).transfer(bob.address, amount)).wait();
  assert.equal(receipt.status, 1);
  assert.equal(await token.balanceOf(alice.address), aliceGnt - amount);
  assert.equal(await token.balanceOf(bob.address), bobGnt + amount);
  assert.equal(await provider.getBalance(alice.address), aliceEth - receipt.fee);
  assert.equal(await provider.getBalance(bob.address), bobEth);
  const logs = receipt.logs.map((l) => token.interface.parseLog(l));
  assert.equal(logs.length, 1);
  assert.equal(logs[0].name, 'Transfer');
  assert.deepEqual([...logs[0].args], [alice.address, bob.address, amount]);

  // The same transfer to an account that holds no GNT yet, as batch payees do below.
  const fresh = randomAddresses(1)[0];
  const r2 = await (await token.connect(alice).transfer(fresh, amount)).wait();
  assert.equal(await token.balanceOf(fresh), amount);
  gas.transferExisting = receipt.gasUsed;
  gas.transferFresh = r2.gasUsed;
  t.diagnostic(`gas: plain transfer ${receipt.gasUsed} (to a holder), ` +
    `${r2.gasUsed} (to a new holder)`);
});

// Approves exactly the batch's total, pays, and checks every balance and event.
async function payAndCheck(payer, payees, amounts, refText) {
  const ref = ethers.id(refText);
  const total = amounts.reduce((a, b) => a + b, 0n);
  await (await token.connect(payer).approve(info.batch_pay, total)).wait();
  const before = await Promise.all(payees.map((p) => token.balanceOf(p)));
  const payerBefore = await token.balanceOf(payer.address);

  const receipt = await (await batch.connect(payer)
    .payBatch(info.token, payees, amounts, ref)).wait();
  assert.equal(receipt.status, 1);

  const after = await Promise.all(payees.map((p) => token.balanceOf(p)));
  for (let i = 0; i < payees.length; i++)
    assert.equal(after[i], before[i] + amounts[i], `payee ${i} got exactly ${amounts[i]}`);
  assert.equal(await token.balanceOf(payer.address), payerBefore - total);
  assert.equal(await token.allowance(payer.address, info.batch_pay), 0n);

  const transfers = [];
  const paid = [];
  for (const log of receipt.logs) {
    if (log.address === info.token)
      transfers.push(token.interface.parseLog(log));
    else if (log.address === info.batch_pay)
      paid.push(batch.interface.parseLog(log));
  }
  assert.equal(transfers.length, payees.length);
  transfers.forEach((ev, i) => {
    assert.equal(ev.name, 'Transfer');
    assert.deepEqual([...ev.args], [payer.address, payees[i], amounts[i]]);
  });
  assert.equal(paid.length, 1);
  assert.equal(paid[0].name, 'BatchPaid');
  assert.equal(paid[0].args.payer, payer.address);
  assert.equal(paid[0].args.ref, ref);
  assert.equal(paid[0].args.total, total);
  assert.equal(paid[0].args.count, BigInt(payees.length));
  // ref and payer are indexed: a log filter finds the batch by its reference.
  const found = await batch.queryFilter(batch.filters.BatchPaid(payer.address, ref),
    receipt.blockNumber, receipt.blockNumber);
  assert.equal(found.length, 1);
  return receipt.gasUsed;
}

test('payBatch pays 3 payees exactly and emits BatchPaid', async () => {
  batch = new ethers.Contract(info.batch_pay, BATCH_ABI, provider);
  assert.equal(await batch.MAX_PAYEES(), 500n);
  const payees = randomAddresses(3);
  const amounts = [GNT('1'), GNT('2.5'), 1n];
  await payAndCheck(alice, payees, amounts, 'three payees');
});

test('payBatch pays 100 payees exactly; gas for 1, 10 and 100 payees', async (t) => {
  const amountsFor = (n) => Array.from({ length: n }, (_, i) => GNT('0.01') * BigInt(i + 1) + 7n);
  for (const n of [1, 10, 100]) {
    const payees = randomAddresses(n);
    gas[n] = await payAndCheck(alice, payees, amountsFor(n), `batch of ${n}`);
    if (n === 100)
      gas.repeat100 = await payAndCheck(alice, payees, amountsFor(n), 'batch of 100 again');
  }
  const per = (g, n) => (Number(g) / n).toFixed(0);
  t.diagnostic(`gas: plain transfer to a new holder ${gas.transferFresh}, ` +
    `to a holder ${gas.transferExisting}`);
  for (const n of [1, 10, 100]) {
    t.diagnostic(`gas: payBatch ${n} new payee(s) ${gas[n]} (${per(gas[n], n)} per payee; ` +
      `${n} plain transfers ${gas.transferFresh * BigInt(n)})`);
  }
  t.diagnostic(`gas: payBatch 100 payees that already hold GNT ${gas.repeat100} ` +
    `(${per(gas.repeat100, 100)} per payee; 100 plain transfers ${gas.transferExisting * 100n})`);
  // One batch is cheaper than separate transfers once there is more than one payee.
  assert.ok(gas[10] < gas.transferFresh * 10n);
  assert.ok(gas[100] < gas.transferFresh * 100n);
});

// Sends a transaction that must revert on chain, with a fixed gas limit so that it is mined.
async function assertMinedRevert(contract, method, args) {
  const tx = await contract[method](...args, { gasLimit: 3000000n });
  await assert.rejects(tx.wait(), (err) => {
    assert.equal(err.code, 'CALL_EXCEPTION');
    assert.equal(err.receipt.status, 0);
    return true;
  });
}

test('payBatch with mismatched lengths, no payees or too many payees reverts', async () => {
  const payer = batch.connect(alice);
  const payees = randomAddresses(3);
  await (await token.connect(alice).approve(info.batch_pay, GNT('10'))).wait();
  const aliceGnt = await token.balanceOf(alice.address);

  await assert.rejects(payer.payBatch.staticCall(info.token, payees, [1n, 2n], ethers.ZeroHash),
    /payees and amounts differ in length/);
  await assert.rejects(payer.payBatch.staticCall(info.token, payees.slice(0, 2), [1n, 2n, 3n],
    ethers.ZeroHash), /payees and amounts differ in length/);
  await assert.rejects(payer.payBatch.staticCall(info.token, [], [], ethers.ZeroHash),
    /empty batch/);
  const many = randomAddresses(501);
  await assert.rejects(payer.payBatch.staticCall(info.token, many, many.map(() => 1n),
    ethers.ZeroHash), /too many payees/);
  await assert.rejects(payer.payBatch.staticCall(carol.address, payees, [1n, 2n, 3n],
    ethers.ZeroHash), /token is not a contract/);

  await assertMinedRevert(payer, 'payBatch', [info.token, payees, [1n, 2n], ethers.ZeroHash]);
  assert.equal(await token.balanceOf(alice.address), aliceGnt);
  for (const p of payees)
    assert.equal(await token.balanceOf(p), 0n);
  assert.equal(await token.allowance(alice.address, info.batch_pay), GNT('10'));
  await (await token.connect(alice).approve(info.batch_pay, 0n)).wait();
});

test('payBatch without enough allowance or balance reverts as a whole', async () => {
  const payer = batch.connect(bob);
  const payees = randomAddresses(3);
  const amounts = [GNT('1'), GNT('2'), GNT('3')];
  const bobGnt = await token.balanceOf(bob.address);
  assert.equal(await token.allowance(bob.address, info.batch_pay), 0n);

  // No allowance at all.
  await assert.rejects(payer.payBatch.staticCall(info.token, payees, amounts, ethers.ZeroHash),
    /GNT: insufficient allowance/);
  await assertMinedRevert(payer, 'payBatch', [info.token, payees, amounts, ethers.ZeroHash]);

  // Enough for the first two payees only: the first two are not paid either.
  await (await token.connect(bob).approve(info.batch_pay, GNT('3'))).wait();
  await assertMinedRevert(payer, 'payBatch', [info.token, payees, amounts, ethers.ZeroHash]);
  assert.equal(await token.allowance(bob.address, info.batch_pay), GNT('3'));

  // Allowance but not the balance: carol holds no GNT.
  await (await token.connect(carol).approve(info.batch_pay, GNT('6'))).wait();
  await assert.rejects(batch.connect(carol).payBatch.staticCall(info.token, payees, amounts,
    ethers.ZeroHash), /GNT: transfer amount exceeds balance/);

  assert.equal(await token.balanceOf(bob.address), bobGnt);
  for (const p of payees)
    assert.equal(await token.balanceOf(p), 0n);
});

test('SIGTERM stops the devnet and its anvil', async () => {
  provider.destroy();
  provider = null;
  devnet.child.kill('SIGTERM');
  const { code, signal } = await devnet.child.exitStatus;
  assert.equal(signal, null);
  assert.equal(code, 0);
  await until('anvil has exited', () => !processAlive(info.anvil_pid));
  assert.equal(await rpcAnswers(info.rpc_url), false);
  assert.equal(await connectRefused('127.0.0.1', info.port), true);
  assert.equal(fs.existsSync(stateFile), false, 'the state file is removed on exit');
});

test('closing standard input stops the devnet', async () => {
  const { child, info: other } = await startDevnet([]);
  assert.equal(await rpcAnswers(other.rpc_url), true);
  child.stdin.end();
  const { code } = await child.exitStatus;
  assert.equal(code, 0);
  await until('anvil has exited', () => !processAlive(other.anvil_pid));
  assert.equal(await rpcAnswers(other.rpc_url), false);
});

test('killing the devnet outright does not leave anvil running',
  { skip: fs.existsSync('/usr/bin/setpriv') ? false : 'needs setpriv (util-linux)' },
  async () => {
    const { child, info: other } = await startDevnet([]);
    child.kill('SIGKILL');
    await child.exitStatus;
    await until('anvil has exited', () => !processAlive(other.anvil_pid));
    assert.equal(await rpcAnswers(other.rpc_url), false);
  });

test('errors print one line and exit non-zero', async () => {
  const server = net.createServer();
  await new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address();
  try {
    const busy = await runDevnet(['--port', String(port)]);
    assert.equal(busy.code, 1);
    assert.equal(busy.stdout, '');
    assert.equal(busy.stderr, `devnet: error: port ${port} on 127.0.0.1 is already in use\n`);
  } finally {
    server.close();
  }

  const bad = await runDevnet(['--fund', '0x1234']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^devnet: error: --fund “0x1234”: .* is not an Ethereum address\n$/);
});
