package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/modelgraph/modelgraph/ingest"
)

// metrics are the service's Prometheus metrics. Each handler gets its own
// registry unless given one, so tests and several servers in one process
// do not collide.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	documents *prometheus.CounterVec
	rejected  *prometheus.CounterVec
	refused   *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgraph_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "modelgraph_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "modelgraph_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgraph_ingested_documents_total",
			Help: "Documents pushed (POST /v1/ingest, GraphQL ingest) by format and status (verified, failed, unverifiable, unsigned, duplicate).",
		}, []string{"format", "status"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgraph_ingest_rejected_total", Help: "Pushed documents refused, by HTTP status code.",
		}, []string{"code"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgraph_graphql_refused_total", Help: "GraphQL requests refused by a limit or a budget, by error code (TOKEN_LIMIT_EXCEEDED, COMPLEXITY_LIMIT_EXCEEDED, OVERLOADED...).",
		}, []string{"code"}),
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight, m.documents, m.rejected, m.refused)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) observe(route, method string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

func (m *metrics) countReceipt(rc ingest.Receipt) {
	for _, d := range rc.Documents {
		status := string(d.Status)
		if d.Duplicate {
			status = "duplicate"
		}
		m.documents.WithLabelValues(d.Format, status).Inc()
	}
}
