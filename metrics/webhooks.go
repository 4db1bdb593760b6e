package metrics

import "github.com/prometheus/client_golang/prometheus"

// Webhooks counts the outgoing webhooks' deliveries (see
// adapters/webhook): frontdesk_webhook_deliveries_total{type, result} and
// the gauge frontdesk_webhook_pending. It implements webhook.Observer.
type Webhooks struct {
	deliveries *prometheus.CounterVec
	pending    prometheus.Gauge
}

// Webhooks registers the webhook metrics on m, their series for types
// starting at zero. Call it once.
func (m *Metrics) Webhooks(types []string) *Webhooks {
	w := &Webhooks{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "frontdesk_webhook_deliveries_total",
			Help: "Webhook delivery attempts by event type and result (delivered; failed: retried later, or dropped if also counted as given_up; given_up: dropped after --webhook-give-up)."}, []string{"type", "result"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "frontdesk_webhook_pending",
			Help: "Webhook events in the outbox waiting for delivery, as of the last delivery pass."}),
	}
	m.reg.MustRegister(w.deliveries, w.pending)
	for _, t := range types {
		for _, r := range []string{"delivered", "failed", "given_up"} {
			w.deliveries.WithLabelValues(eventLabel(t), r)
		}
	}
	return w
}

// eventLabel keeps an event type such as "message.created" as a label.
func eventLabel(t string) string {
	if len(t) > 40 {
		return "other"
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || c == '_' || c == '.') {
			return "other"
		}
	}
	return t
}

// WebhookDelivered counts an event delivered.
func (w *Webhooks) WebhookDelivered(eventType string) {
	w.deliveries.WithLabelValues(eventLabel(eventType), "delivered").Inc()
}

// WebhookFailed counts a failed attempt (the event is retried).
func (w *Webhooks) WebhookFailed(eventType string) {
	w.deliveries.WithLabelValues(eventLabel(eventType), "failed").Inc()
}

// WebhookGivenUp counts an event dropped after failing for too long.
func (w *Webhooks) WebhookGivenUp(eventType string) {
	w.deliveries.WithLabelValues(eventLabel(eventType), "given_up").Inc()
}

// WebhookPending sets how many events wait.
func (w *Webhooks) WebhookPending(n int) { w.pending.Set(float64(n)) }
