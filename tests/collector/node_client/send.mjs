// send.mjs: a real OpenTelemetry JS application's OTLP traffic, for the otel-llm collector tests.
//
// Makes N GenAI-shaped spans with the JS SDK (its own ids, clock and resource) and hands them to one of
// the three JS OTLP trace exporters, calling exporter.export(batch, callback) itself, batch by batch, so
// the outcome of every request is observed (a BatchSpanProcessor would drop failures on the floor).
//
//   node send.mjs --protocol http/protobuf|http/json|grpc --endpoint URL [--token T] [--spans N]
//                 [--batch B] [--header k=v]... [--attr k=v]... [--resource-attr k=v]...
//                 [--service-name S] [--timeout-ms MS] [--compression none|gzip] [--deps DIR]
//
// HTTP endpoints are the full traces URL, used as is (http://127.0.0.1:4318/v1/traces); gRPC takes the
// server URL (http://127.0.0.1:4317: the exporter speaks TLS to anything not http://, a bare host:port
// included). --token T sends `authorization: Bearer T` (an HTTP header, or gRPC metadata). --header adds
// headers/metadata; --attr adds a string attribute to every span, --resource-attr one to the resource
// (e.g. a forged otel_llm.tenant.id).
//
// Spans: span 0 is the root and the others its children (one trace); each is a CLIENT `chat` span with
// the GenAI semantic-convention attributes and `otel_llm.test.index` = its index; when N >= 2 the last
// one failed (status ERROR, error.type, an exception event).
//
// stdout: one JSON line {"exported", "failed", "results", "error", "error_code", "partial_success",
// "batches", "elapsed_ms"}: spans in batches that succeeded / failed, one "success"|"failed" per batch,
// the first failure's message and code (HTTP status or gRPC status number), the partial_success objects
// the server answered (the exporters only log them: a partial success still counts as success), and
// the number of export() calls. The exporters' own diagnostics go to stderr. Exit 0 when every batch
// succeeded, 1 when one failed, 2 on bad arguments.
//
// What "failed" means is the exporters' own rule: the HTTP ones retry 429/502/503/504 and connection
// errors (honouring Retry-After) within --timeout-ms, then fail; any other status fails at once; the gRPC
// one never retries. A run therefore takes at most about --timeout-ms per batch.
//
// Dependencies are loaded with require() from --deps DIR (a directory whose node_modules holds the
// packages of package-lock.json; default: $OTEL_LLM_NODE_DEPS, else this script's directory), so the
// script runs from the repository while its packages live in the install cache.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'];
const EXPORTER_PACKAGE = {
  'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  'http/json': '@opentelemetry/exporter-trace-otlp-http',
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
};
const MODEL = 'gpt-4o-mini';
const RESPONSE_MODEL = 'gpt-4o-mini-2024-07-18';

class UsageError extends Error {}

function keyValue(flag, text) {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`${flag} wants key=value, got ${JSON.stringify(text)}`);
  return [text.slice(0, at), text.slice(at + 1)];
}

function positiveInt(flag, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`${flag} wants a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

function parseArgs(argv) {
  const options = {
    protocol: undefined, endpoint: undefined, token: '', spans: 1, batch: 512, headers: [], attrs: [],
    resourceAttrs: [], serviceName: 'otel-llm-node-client', timeoutMs: 10000, compression: 'none',
    deps: process.env.OTEL_LLM_NODE_DEPS || dirname(fileURLToPath(import.meta.url)),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
    const value = argv[++i];
    switch (flag) {
      case '--protocol': options.protocol = value; break;
      case '--endpoint': options.endpoint = value; break;
      case '--token': options.token = value; break;
      case '--spans': options.spans = positiveInt(flag, value); break;
      case '--batch': options.batch = positiveInt(flag, value); break;
      case '--header': options.headers.push(keyValue(flag, value)); break;
      case '--attr': options.attrs.push(keyValue(flag, value)); break;
      case '--resource-attr': options.resourceAttrs.push(keyValue(flag, value)); break;
      case '--service-name': options.serviceName = value; break;
      case '--timeout-ms': options.timeoutMs = positiveInt(flag, value); break;
      case '--compression': options.compression = value; break;
      case '--deps': options.deps = value; break;
      default: throw new UsageError(`unknown argument ${JSON.stringify(flag)}`);
    }
  }
  if (!PROTOCOLS.includes(options.protocol)) throw new UsageError(`--protocol must be one of ${PROTOCOLS.join(', ')}`);
  if (!options.endpoint) throw new UsageError('--endpoint is required');
  if (!['none', 'gzip'].includes(options.compression)) throw new UsageError('--compression must be none or gzip');
  return options;
}

// The exporters report retries, partial successes and unreadable responses only through the diag
// logger: keep what they say (partial successes parsed) and echo it to stderr.
function captureDiag(api) {
  const partialSuccess = [];
  const log = (level) => (message, ...args) => {
    if (typeof message === 'string' && message.startsWith('Received Partial Success response')) {
      try { partialSuccess.push(JSON.parse(args[0])); } catch { partialSuccess.push({ raw: String(args[0]) }); }
    }
    process.stderr.write(`[otel ${level}] ${[message, ...args].map(String).join(' ')}\n`);
  };
  api.diag.setLogger(
    { error: log('error'), warn: log('warn'), info: log('info'), debug: () => {}, verbose: () => {} },
    api.DiagLogLevel.INFO,
  );
  return partialSuccess;
}

function makeSpans(deps, options) {
  const { trace, context, SpanKind, SpanStatusCode } = deps.api;
  const finished = [];
  const collector = {
    onStart() {}, onEnd(span) { finished.push(span); },
    forceFlush: async () => {}, shutdown: async () => {},
  };
  // The SDK's default resource (telemetry.sdk.*) under the service's own attributes, as NodeSDK makes it.
  const resource = deps.resources.defaultResource().merge(deps.resources.resourceFromAttributes({
    'service.name': options.serviceName, ...Object.fromEntries(options.resourceAttrs),
  }));
  const provider = new deps.sdk.BasicTracerProvider({ resource, spanProcessors: [collector] });
  const tracer = provider.getTracer('otel-llm-node-client', '0.0.0');
  const extra = Object.fromEntries(options.attrs);
  let root;
  for (let i = 0; i < options.spans; i++) {
    const parent = root === undefined ? context.active() : trace.setSpan(context.active(), root);
    const span = tracer.startSpan(`chat ${MODEL}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': MODEL,
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.max_tokens': 256,
        'server.address': 'api.openai.com',
        'server.port': 443,
        'otel_llm.test.index': i,
        ...extra,
      },
    }, parent);
    if (root === undefined) root = span;
    const failed = options.spans >= 2 && i === options.spans - 1;
    if (failed) {
      const error = new Error('Rate limit reached for gpt-4o-mini');
      error.name = 'RateLimitError';
      span.recordException(error);
      span.setAttribute('error.type', 'RateLimitError');
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    } else {
      span.setAttributes({
        'gen_ai.response.model': RESPONSE_MODEL,
        'gen_ai.response.id': `chatcmpl-node-${i}`,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.usage.input_tokens': 10 + i,
        'gen_ai.usage.output_tokens': 5 + i,
      });
    }
    span.end();
  }
  return finished;
}

function makeExporter(deps, options) {
  const { OTLPTraceExporter } = deps.exporter;
  const headers = Object.fromEntries(options.headers);
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const common = { url: options.endpoint, timeoutMillis: options.timeoutMs, compression: options.compression };
  if (options.protocol !== 'grpc') return new OTLPTraceExporter({ ...common, headers });
  const metadata = new deps.grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  return new OTLPTraceExporter({ ...common, metadata });
}

function exportBatch(exporter, batch) {
  return new Promise((resolve) => exporter.export(batch, resolve));
}

function describeError(error) {
  if (error == null) return [null, null];
  const code = typeof error.code === 'number' ? error.code : null;
  const body = typeof error.data === 'string' && error.data ? ` ${error.data}` : '';
  return [`${error.message || String(error)}${body}`, code];
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`send.mjs: ${error.message}\n`);
    return 2;
  }
  const require = createRequire(join(options.deps, 'package.json'));
  const deps = {
    api: require('@opentelemetry/api'),
    resources: require('@opentelemetry/resources'),
    sdk: require('@opentelemetry/sdk-trace-base'),
    exporter: require(EXPORTER_PACKAGE[options.protocol]),
    grpc: options.protocol === 'grpc' ? require('@grpc/grpc-js') : null,
    core: require('@opentelemetry/core'),
  };
  const partialSuccess = captureDiag(deps.api);
  const spans = makeSpans(deps, options);
  const exporter = makeExporter(deps, options);
  const started = Date.now();
  const report = {
    exported: 0, failed: 0, results: [], error: null, error_code: null,
    partial_success: partialSuccess, batches: 0, elapsed_ms: 0,
  };
  for (let start = 0; start < spans.length; start += options.batch) {
    const batch = spans.slice(start, start + options.batch);
    const result = await exportBatch(exporter, batch);
    report.batches += 1;
    if (result.code === deps.core.ExportResultCode.SUCCESS) {
      report.exported += batch.length;
      report.results.push('success');
    } else {
      report.failed += batch.length;
      report.results.push('failed');
      if (report.error === null) [report.error, report.error_code] = describeError(result.error);
      if (report.error === null) report.error = 'export failed without an error';
    }
  }
  report.elapsed_ms = Date.now() - started;
  await exporter.shutdown();
  await new Promise((resolve) => process.stdout.write(`${JSON.stringify(report)}\n`, resolve));
  return report.failed === 0 ? 0 : 1;
}

// Exit explicitly: a gRPC channel or keep-alive socket must not keep a finished run alive.
main().then((code) => process.exit(code), (error) => {
  process.stderr.write(`send.mjs: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
