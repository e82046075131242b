package agent

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/internal/tlsutil/tlstest"
)

// TestCertificateExpiryExported: a gateway with TLS exports when its
// broker CA and its client certificate expire.
func TestCertificateExpiryExported(t *testing.T) {
	ca := tlstest.NewCA(t, "test-ca")
	client := ca.Issue(t, "gw-1", 30*24*time.Hour)
	reg := prometheus.NewRegistry()
	if err := watchCertificates(reg, ca.File, client.CertFile, client.KeyFile); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "chargewatch_tls_certificate_expiry_timestamp_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "use" {
					got[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	if got["mqtt_ca"] != float64(ca.Cert.NotAfter.Unix()) || got["mqtt_client"] != float64(client.Cert.NotAfter.Unix()) {
		t.Fatalf("expiry metrics %v, want CA %d and client %d", got, ca.Cert.NotAfter.Unix(), client.Cert.NotAfter.Unix())
	}
	if err := watchCertificates(prometheus.NewRegistry(), ca.File, "/nonexistent.pem", "/nonexistent.key"); err == nil {
		t.Fatal("a missing client certificate: want an error")
	}
}
