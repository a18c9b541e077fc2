import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { Acceptor } from '../child/acceptor.js';
import { letAppFinish, sendToMaster, stayAttached } from '../child/attach.js';
import { bootChild, listenToMaster, runChild } from '../child/boot.js';
import { serve } from '../child/serve.js';
import { applyServerLimits } from '../child/server-limits.js';
import type { SlotKeeper } from '../child/slots.js';
import type { QuickSignal } from '../child/stop-signals.js';
import { wantedAddress } from '../config/on-demand.js';
import type { Config } from '../config/registry.js';
import { ErrorCode, ExitCode, TsgunError } from '../errors.js';
import { callHook, type WorkerFacade, type WorkerHooks, workerHooksFrom } from '../hooks.js';
import { clip, timingsPerReport } from '../ipc/limits.js';
import { QUICK_STOP_MS, type RetireReason, workerMessage } from '../ipc/protocol.js';
import type { Logger } from '../log/logger.js';
import { nodeRequire } from '../node-require.js';
import { onAppReady } from '../ready.js';
import { type AccessLog, createAccessLog } from './access-log.js';
import { AppLoadError } from './app-error.js';
import { appHandlesTerm, appListensTo, exitWhenAppDone, quickStopPlan } from './app-exit.js';
import { captureOutput } from './capture-output.js';
import { Counters } from './counters.js';
import { fetchListener } from './fetch-adapter.js';
import { checkH2Form, directH2 } from './h2-direct.js';
import type { AppJob } from './jobs.js';
import {
  ListenCapture,
  listenWaitMs,
  loadAppOrListen,
  workerBoundPorts,
} from './listen-capture.js';
import type { AppTarget } from './load-app.js';
import { acceptPm2Ready } from './pm2-ready.js';
import { startRecycling } from './recycle.js';
import { type GateState, installGate } from './request-gate.js';
import { awaitSpareBoot } from './spare-boot.js';

/**
 * A worker: loads the app, listens on the sockets the master inherited to it, accepts directly,
 * and reports to the master over IPC. Started by the master with `child_process.fork`.
 */

/** Run an app job the master chose this worker for, and report how it went. */
async function runJob(
  jobs: readonly AppJob[],
  name: string,
  runId: number,
  logger: Logger,
): Promise<void> {
  const job = jobs.find((j) => j.name === name);
  const started = performance.now();
  let error: string | null = job ? null : `no job named ${name} in this worker`;
  if (job) {
    try {
      await job.run();
    } catch (err) {
      error = (err as Error)?.message ?? String(err);
      logger.error({ job: name, err }, `job ${name} failed`);
    }
  }
  sendToMaster(
    workerMessage({
      type: 'job-done',
      runId,
      ok: error === null,
      error: error === null ? null : clip(error),
      durationMs: performance.now() - started,
    }),
  );
}

/** The worker's own hooks, read again from the config file (functions do not cross IPC). */
async function loadWorkerHooks(file: string | null, logger: Logger): Promise<WorkerHooks> {
  if (!file) return {};
  try {
    // Only with a config file: the CLI parser behind config/load.js stays out of a plain worker.
    const { readConfigFile } = await import('../config/load.js');
    return workerHooksFrom(await readConfigFile(file));
  } catch (err) {
    logger.error({ err }, 'cannot read the config file for worker hooks');
    return {};
  }
}

/** The server that receives accepted connections: the app's own, or one tsgun makes for it. */
function appServer(target: AppTarget, logger: Logger): NetServer {
  // Required, not imported: src/node-require.ts says why.
  const { createServer } = nodeRequire('node:http') as typeof import('node:http');
  switch (target.kind) {
    case 'listener':
      return createServer(); // the gate adds the listener after tsgun's per-request step
    case 'fetch':
      return createServer(fetchListener(target.app, logger));
    case 'server':
      return target.server;
  }
}

/** http and https servers (not a bare net.Server) get tsgun's request step. */
function isHttpServer(server: NetServer): server is HttpServer {
  return 'keepAliveTimeout' in server;
}

async function main(): Promise<void> {
  // A spare started before the master had a config: its environment comes first.
  const spareSockets = await awaitSpareBoot();
  const boot = bootChild<Config>('worker', (err) =>
    err instanceof AppLoadError ? err.detail : undefined,
  );
  const { id, config, check, log, logger } = boot;
  // Typed, so that the compiler knows it does not return.
  const bootFailed: (err: unknown) => never = boot.fail;
  if (config.captureOutput) {
    const index = process.env['TSGUN_WORKER_INDEX'];
    captureOutput(logger, index === undefined ? null : Number(index));
  }
  let openConnections = () => 0;
  let served = () => 0;
  // Heartbeat first, so a blocked boot is caught by the master like a blocked request.
  stayAttached(
    config.timeout,
    () => openConnections(),
    () => served(),
  );

  // Installed before the first await: the master sends the TLS material right after forking.
  let acceptor: Acceptor | null = null;
  let jobs: AppJob[] = [];
  let receiveBind: (error: string | null, handle: unknown) => void = () => {};
  const master = listenToMaster(logger, (message, handle) => {
    if (message.type === 'socket' && handle) acceptor?.adopt(message.index, handle as object);
    if (message.type === 'bind-result') receiveBind(message.error, handle);
    if (message.type === 'run-job') void runJob(jobs, message.name, message.runId, logger);
  });

  // Ready = accepting on every socket and, with --wait-ready, the app called ready().
  let accepting = false;
  let appReady = !config.waitReady;
  let saidReady = false;
  const maybeReady = () => {
    if (saidReady || !accepting || !appReady) return;
    saidReady = true;
    if (jobs.length > 0)
      sendToMaster(
        workerMessage({
          type: 'jobs',
          jobs: jobs.map((j) => ({ name: j.name, schedule: j.schedule })),
        }),
      );
    sendToMaster(workerMessage({ type: 'ready' }));
  };
  const appSaidReady = () => {
    appReady = true;
    maybeReady();
  };
  onAppReady(appSaidReady);
  acceptPm2Ready(appSaidReady);

  const hooks = await loadWorkerHooks(config.config, logger);
  const self: WorkerFacade = { id, pid: process.pid };

  let target: AppTarget;
  // Before the app is imported: an app that calls listen() itself is served from our sockets.
  const capture = new ListenCapture({
    logger,
    boundPorts: workerBoundPorts(config.bind),
    busy: (report) => sendToMaster(workerMessage({ type: 'pass-busy', ...report })),
    refuse: bootFailed,
    // Forked before the master bound anything (no bind configured): the app's listen() decides.
    onDemand: config.bind.length === 0,
  });
  try {
    if (!config.app) throw new TsgunError(ErrorCode.APP_NOT_FOUND, 'no app given');
    ({ target, jobs } = await loadAppOrListen(
      config.app,
      capture,
      listenWaitMs(config.readyTimeout),
      logger,
    ));
    if (config.http2 && !config.router) checkH2Form(target);
  } catch (err) {
    bootFailed(err);
  }
  if (check) process.exit(ExitCode.OK);
  // Awaited: the worker accepts (and counts as ready) once the hook's promise settled.
  await callHook(hooks.postWorkerInit, 'postWorkerInit', logger, self);

  const state: GateState = { requests: 0, draining: false };
  served = () => state.requests;
  const maxRequests =
    config.maxRequests > 0
      ? config.maxRequests + Math.floor(Math.random() * (config.maxRequestsJitter + 1))
      : 0;
  let retired = false;
  const retire = (reason: RetireReason, detail: string) => {
    if (retired) return;
    retired = true;
    logger.info({ reason }, `asking to be replaced: ${detail}`);
    sendToMaster(workerMessage({ type: 'retire', reason, detail: clip(detail) }));
  };
  const counters =
    config.stats || config.statsdHost
      ? new Counters(
          config.statsdHost ? config.statsdSampleRate : null,
          timingsPerReport(
            typeof config.workers === 'number'
              ? config.workers
              : (nodeRequire('node:os') as typeof import('node:os')).availableParallelism(),
          ),
        )
      : null;
  let accessLog: AccessLog | null = null;
  try {
    if (config.accessLogfile)
      accessLog = await createAccessLog({
        file: config.accessLogfile,
        format: config.accessLogformat,
        json: config.accessLogJson,
        onError: (err) =>
          logger.error(
            { file: config.accessLogfile, err: (err as NodeJS.ErrnoException).code ?? err.message },
            `access log ${config.accessLogfile}: ${err.message}`,
          ),
        onDropped: (dropped) =>
          logger.warn(
            { file: config.accessLogfile, dropped },
            `access log ${config.accessLogfile}: dropped ${dropped} lines, its reader is not taking them`,
          ),
      });
  } catch (err) {
    bootFailed(err);
  }
  const server = appServer(target, logger);
  let slots: SlotKeeper | undefined;
  if (isHttpServer(server)) {
    slots = applyServerLimits(server, config, config.workerConnections, logger);
    server.keepAliveTimeout = config.keepAlive * 1000;
    installGate(server, target.kind === 'listener' ? target.listener : null, {
      config,
      state,
      maxRequests,
      accessLog,
      counters,
      logger,
      hooks,
      worker: self,
      onMaxRequests: () => retire('max-requests', `reached --max-requests ${maxRequests}`),
      // Several workers and nothing keeping a client on one: a long-polling session breaks.
      ...(config.workers !== 1 && !(config.router && config.sticky !== null)
        ? {
            onSessionPolling: () =>
              sendToMaster(workerMessage({ type: 'notice', notice: 'socket-io-polling' })),
          }
        : {}),
    });
  }
  startRecycling(config, retire);

  // --http2: its own front (child/h2-front.ts) hands each h2 request to `server` as a 'request'.
  const h2 = config.http2 && !config.router ? directH2(config, server, logger) : null;
  // workerExit is awaited before the exit (the master's --graceful-timeout kill bounds it). The
  // access log is flushed at once too: on the app's own process.exit() nothing async runs.
  // Once, whichever way the worker ends (a quick stop's bound may follow the app's own exit path).
  const flush = () => accessLog?.flush();
  let cleaned: Promise<void> | null = null;
  const cleanup = () => {
    if (cleaned) return cleaned;
    const hook = callHook(hooks.workerExit, 'workerExit', logger, self);
    flush();
    cleaned = hook.then(flush);
    return cleaned;
  };
  let finishing = false;
  const finish = (code: number) => {
    if (finishing) return;
    finishing = true;
    void cleanup().then(() => process.exit(code));
  };
  let waitingForApp = false;
  const waitForApp = () => {
    if (waitingForApp) return;
    waitingForApp = true;
    exitWhenAppDone(cleanup);
  };
  // INT/QUIT (a terminal's Ctrl-C, the master's quick stop): an app with its own stop handler
  // gets its signal once and the quick-stop grace to finish; tsgun's own part stays quick (no
  // longer accepting, and its connections do not hold the process).
  const quickStop = (accepted: Acceptor, received: QuickSignal, termed: boolean) => {
    const plan = quickStopPlan({ received, termed, listens: appListensTo });
    const hook = callHook(hooks.workerInt, 'workerInt', logger, self);
    if (!plan.wait) {
      void hook.then(() => finish(ExitCode.OK));
      return;
    }
    logger.info(
      { graceMs: QUICK_STOP_MS },
      "worker stopping now: the app's own stop handler finishes first",
    );
    letAppFinish();
    for (const socket of accepted.sockets) socket.unref();
    // The workerInt hook runs beside the app's handler; what it still does holds the loop too.
    waitForApp();
    // The master's SIGKILL bounds it too; this is for when the master is gone.
    setTimeout(() => {
      logger.warn(
        { graceMs: QUICK_STOP_MS },
        'the quick-stop grace is over: exiting with the app still busy',
      );
      finish(ExitCode.OK);
    }, QUICK_STOP_MS).unref();
    if (plan.emit) process.emit(plan.emit, plan.emit);
  };
  const serving = await serve({
    boot,
    master,
    server,
    h2,
    maxConnections: config.workerConnections,
    ...(counters ? { onSocketClosed: (socket: Socket) => counters.socketClosed(socket) } : {}),
    ...(slots ? { slots } : {}),
    stop: (accepted) => ({
      onDrain: () => {
        state.draining = true;
        h2?.goaway();
      },
      finish,
      drained: () => (appHandlesTerm() || waitingForApp ? waitForApp() : finish(ExitCode.OK)),
      quickStop: (received, termed) => quickStop(accepted, received, termed),
      onAbort: () => callHook(hooks.workerAbort, 'workerAbort', logger, self),
      reopenLogs: () => {
        log.reopen();
        accessLog?.reopen();
      },
    }),
  });
  const accepted = serving.acceptor;
  acceptor = accepted;
  openConnections = () => accepted.sockets.size;
  if (counters) {
    setInterval(() => {
      counters.requests = state.requests;
      const report = counters.report(accepted.sockets, {
        logLinesDropped: log.dropped() + (accessLog?.dropped() ?? 0),
        proxyHeaderRefused: serving.proxyHeaderRefused(),
        ...(h2 ? { h2Requests: h2.requests() } : {}),
      });
      sendToMaster(workerMessage({ type: 'stats', ...report }));
    }, 1000).unref();
  }

  // No bind configured and none made yet: the master binds what the app asked for, and sends it.
  if (config.bind.length === 0) {
    const wanted = wantedAddress(capture.mainAddress());
    const got = await new Promise<{ error: string | null; handle: unknown }>((resolve) => {
      receiveBind = (error, handle) => resolve({ error, handle });
      sendToMaster(workerMessage({ type: 'want-bind', ...wanted }));
    });
    if (got.error !== null || !got.handle)
      bootFailed(new TsgunError(ErrorCode.BIND_FAILED, got.error ?? 'no socket'));
    await accepted
      .listenReceived(0, got.handle as object)
      .catch((err: unknown) =>
        bootFailed(
          new TsgunError(
            ErrorCode.WORKER_LISTEN,
            `worker cannot listen: ${(err as Error).message}`,
          ),
        ),
      );
  }
  await serving.listen(spareSockets, () =>
    capture.serving(
      accepted.address(0),
      () => accepted.sockets,
      () => {
        accepted.stop();
        // Not while stopping: the app's SIGTERM listener runs before tsgun's marks the drain.
        setImmediate(() => {
          if (!state.draining) retire('app-closed', 'the app closed its server');
        });
      },
    ),
  );
  logger.debug({ kind: target.kind }, 'worker accepting');
  accepting = true;
  maybeReady();
}

runChild('worker', main);
