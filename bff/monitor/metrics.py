"""OpenTelemetry metrics and traces of one BFF process.

Metrics go to a Prometheus registry of their own (``/metrics``; one per Services, so
several apps in one process never share or collide) and, when the SDK's own
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, to an OTLP collector too; so do the traces.

Prometheus conventions: durations in seconds (unit ``s`` → ``_seconds``), counts as counters
(``_total``), labels from small fixed sets; prometheus_client's process, platform and garbage
collector metrics beside ours. Every name is in docs/deploy.md and used by deploy/prometheus
and deploy/grafana (tests/monitor/test_metric_conventions.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from opentelemetry import trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector, generate_latest

SERVICE_NAME = "huicai-bff"
CIRCUIT_LEVELS = {"CLOSED": 0, "HALF_OPEN": 1, "OPEN": 2}
PROBE_LEVELS = {"UNKNOWN": -1, "UP": 0, "DEGRADED": 1, "DOWN": 2}
# Seconds: a page answers in tens of milliseconds, the ERP budget is 2.7 s, a watcher cycle may take a minute.
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)


def otlp_enabled() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


class Telemetry:
    def __init__(self) -> None:
        resource = Resource.create({"service.name": SERVICE_NAME})
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, process_resident_memory_bytes, fds...
        PlatformCollector(registry=self.registry)  # python_info
        GCCollector(registry=self.registry)  # python_gc_collections_total by generation
        readers: list[MetricReader] = [PrometheusMetricReader(registry=self.registry)]
        self.tracer_provider = TracerProvider(resource=resource)
        if otlp_enabled():  # imported only when used: the exporter pulls in protobuf
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
            self.tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.meter_provider = MeterProvider(resource=resource, metric_readers=readers)
        self.tracer = self.tracer_provider.get_tracer("bff")
        meter = self.meter_provider.get_meter("bff")
        self.request_s = meter.create_histogram(
            "bff.request.duration", unit="s", description="Inbound request latency by operation and status",
            explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S,
        )
        self.erp_s = meter.create_histogram(
            "bff.erp.duration", unit="s", description="ERP call latency by endpoint, form and outcome",
            explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S,
        )
        self.errors = meter.create_counter("bff.errors", description="Answers with an error, by code and operation")
        self.fallback = meter.create_counter(
            "bff.fallback.lookups", description="Stale-fallback lookups while the ERP is unavailable: hit or miss"
        )
        self._meter = meter

    def gauge(self, name: str, description: str, read: Callable[[], Iterable[tuple[float, dict[str, str]]]],
              unit: str = "") -> None:
        """A gauge read at collection time (circuit state, probe state, outbox depth...)."""

        def callback(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(value, attributes) for value, attributes in read()]

        self._meter.create_observable_gauge(name, callbacks=[callback], description=description, unit=unit)

    def counter(self, name: str, description: str, read: Callable[[], Iterable[tuple[float, dict[str, str]]]]) -> None:
        """A monotonic count kept elsewhere (e.g. the ERP client's anomalies), read at collection time:
        exported as ``<name>_total``."""

        def callback(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(value, attributes) for value, attributes in read()]

        self._meter.create_observable_counter(name, callbacks=[callback], description=description)

    def histogram(self, name: str, description: str) -> Callable[[float, dict[str, str]], None]:
        """A duration histogram in seconds (``<name>_seconds``); returns its record function."""
        instrument = self._meter.create_histogram(
            name, unit="s", description=description, explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S)
        return lambda seconds, attributes: instrument.record(seconds, attributes)

    # --- recording ---------------------------------------------------------------------

    def record_request(self, operation: str, status: int, latency_ms: float, error_code: str | None) -> None:
        self.request_s.record(latency_ms / 1000, {"operation": operation, "status": str(status)})
        if error_code:
            self.errors.add(1, {"code": error_code, "operation": operation})

    def record_erp(self, endpoint: str, form_id: int | None, outcome: str, latency_ms: float) -> None:
        self.erp_s.record(latency_ms / 1000, {"endpoint": endpoint, "form": str(form_id or ""), "outcome": outcome})

    def record_fallback(self, hit: bool) -> None:
        self.fallback.add(1, {"result": "hit" if hit else "miss"})

    def prometheus_text(self) -> bytes:
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        self.meter_provider.shutdown()
        self.tracer_provider.shutdown()


def current_trace_id() -> str:
    """The current span's trace id (32 hex), or empty outside a traced request."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""
